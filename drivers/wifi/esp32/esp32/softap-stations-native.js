// The SoftAP's station list, implemented in softap-stations.c; ../softap-stations.d.ts describes it.
class SoftApStations {
	list() @ "xs_softap_stations_list";
	deauth(mac) @ "xs_softap_stations_deauth";
}

export default SoftApStations;
