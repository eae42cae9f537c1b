// One ESP-IDF network interface (esp_netif), found by its key: "WIFI_STA_DEF" (the station),
// "WIFI_AP_DEF" (the SoftAP), "ETH_DEF" (Moddable's Ethernet). Implemented in esp32/ipconfig.c;
// addresses cross the boundary as dotted strings. A method answers false (or undefined) while
// the interface's driver has not created it yet.

export default class IpConfigNative {
  constructor(key: string);
  /** esp_netif_get_ip_info: [ip, gateway, netmask]. */
  info(): [ip: string, gateway: string, netmask: string] | undefined;
  /** Stops the DHCP client and sets the address (all 0.0.0.0: none). */
  useStatic(ip: string, gateway: string, netmask: string): boolean;
  /** Clears the address and starts the DHCP client. */
  useDHCP(): boolean;
  /** The main, backup and fallback DNS servers (esp_netif_get_dns_info), those that are set. */
  dns(): string[] | undefined;
  /** Sets main, backup and fallback (esp_netif_set_dns_info); the ones not given are cleared. */
  setDNS(servers: string[]): boolean;
  /** esp_netif_set_hostname: the name the DHCP client sends. */
  setHostname(name: string): boolean;
}
