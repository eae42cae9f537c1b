// One ESP-IDF network interface (esp_netif), found by its key: "WIFI_STA_DEF" (the station),
// "WIFI_AP_DEF" (the SoftAP), "ETH_DEF" (Moddable's Ethernet). Implemented in esp32/ipconfig.c;
// addresses cross the boundary as dotted strings. A method answers false (or undefined) while
// the interface's driver has not created it yet.

export default class IpConfigNative {
  constructor(key: string);
  /** esp_netif_get_ip_info: [ip, gateway, netmask]. */
  info(): [ip: string, gateway: string, netmask: string] | undefined;
  /** esp_netif_get_ip6_linklocal and esp_netif_get_ip6_global, as lwIP's ip6addr_ntoa writes them; "" for one it has not got. */
  ip6(): [linkLocal: string, global: string] | undefined;
  /** Stops the DHCP client and sets the address (all 0.0.0.0: none). On a SoftAP's interface, its DHCP server serves the new address. */
  useStatic(ip: string, gateway: string, netmask: string): boolean;
  /**
   * A SoftAP's DHCP server (esp_netif_dhcps_*): stops it, sets its pool (without `start`: ESP-IDF's
   * own, the 100 addresses after the interface's) and lease time in minutes (0: ESP-IDF's 120), and
   * starts it again when `on`. A pool esp_netif refuses throws RangeError, and the server keeps its last one.
   */
  serveDHCP(on: boolean, start?: string, end?: string, leaseMinutes?: number): boolean;
  /** Clears the address and starts the DHCP client. */
  useDHCP(): boolean;
  /** A SoftAP's DHCP server: whether it runs, its pool and lease time in minutes (esp_netif_dhcps_option); undefined on other interfaces. */
  dhcpServer(): [on: boolean, start: string, end: string, leaseMinutes: number] | undefined;
  /** The main, backup and fallback DNS servers (esp_netif_get_dns_info), those that are set. */
  dns(): string[] | undefined;
  /** Sets main, backup and fallback (esp_netif_set_dns_info); the ones not given are cleared. */
  setDNS(servers: string[]): boolean;
  /** esp_netif_set_hostname: the name the DHCP client sends. */
  setHostname(name: string): boolean;
  /**
   * esp_wifi_set_mac on the station's or the SoftAP's interface, "aa:bb:cc:dd:ee:ff": false when
   * ESP-IDF refuses it (the Wi-Fi mode lacks the interface, bit 0 of the first byte is set) or on
   * another interface. A malformed MAC throws RangeError.
   */
  setMac(mac: string): boolean;
}
