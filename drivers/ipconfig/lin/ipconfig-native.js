// lin, the platform of builds and tests, has no ESP-IDF network interfaces: the module links,
// and every interface reads as not created yet, so what is asked of it waits, unapplied.
class IpConfigNative {
	constructor(key) {
		if (typeof key !== "string") throw new TypeError("an interface key is a string");
	}
	info() {
		return undefined;
	}
	ip6() {
		return undefined;
	}
	useStatic() {
		return false;
	}
	useDHCP() {
		return false;
	}
	serveDHCP() {
		return false;
	}
	dhcpServer() {
		return undefined;
	}
	dns() {
		return undefined;
	}
	setDNS() {
		return false;
	}
	setHostname() {
		return false;
	}
	setMac() {
		return false;
	}
}

export default IpConfigNative;
