// One ESP-IDF network interface, implemented in ipconfig.c; ../ipconfig-native.d.ts describes it.
class IpConfigNative @ "xs_ipconfig_destructor" {
	constructor(key) @ "xs_ipconfig";
	info() @ "xs_ipconfig_info";
	ip6() @ "xs_ipconfig_ip6";
	useStatic(ip, gateway, netmask) @ "xs_ipconfig_use_static";
	useDHCP() @ "xs_ipconfig_use_dhcp";
	serveDHCP(on, start, end, leaseMinutes) @ "xs_ipconfig_serve_dhcp";
	dhcpServer() @ "xs_ipconfig_dhcp_server";
	dns() @ "xs_ipconfig_dns";
	setDNS(servers) @ "xs_ipconfig_set_dns";
	setHostname(name) @ "xs_ipconfig_set_hostname";
	setMac(mac) @ "xs_ipconfig_set_mac";
}

export default IpConfigNative;
