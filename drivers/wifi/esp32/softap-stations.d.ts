// The SoftAP's station list, native: ESP-IDF's esp_wifi_ap_get_sta_list and the addresses its
// DHCP server gave (esp32/softap-stations.c, bound by esp32/softap-stations-native.js).
// Moddable's `station_connect` and `station_disconnect` messages name no station; this does.
export default class SoftApStations {
  /** The stations on the SoftAP: MAC (lower case) and IPv4 address ("0.0.0.0" until DHCP gives one), in turn. */
  list(): string[];
  /** Deauthenticates the station with this MAC, or every station with none; false when no such station is on. */
  deauth(mac?: string): boolean;
}
