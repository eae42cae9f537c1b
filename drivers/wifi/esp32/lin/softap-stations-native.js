// A build for another platform (lin, for builds and tests) has no SoftAP: no station is ever on it.
class SoftApStations {
	list() {
		return [];
	}
	deauth() {
		return false;
	}
}

export default SoftApStations;
