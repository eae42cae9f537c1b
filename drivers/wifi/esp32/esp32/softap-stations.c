/*
 * The SoftAP's station list for xsock, on ESP-IDF's Wi-Fi driver (esp_wifi.h) and the addresses
 * its DHCP server gave (esp_wifi_ap_get_sta_list.h). Moddable's `wifi` module reports
 * station_connect and station_disconnect without naming the station; this names them.
 *
 * The boundary with JavaScript is one small class (see ../softap-stations.d.ts): list() gives
 * MACs and addresses in turn, as strings; deauth(mac) sends one station, or all, off the SoftAP.
 *
 * Written against ESP-IDF's documented API; it has not been compiled or run with ESP-IDF here.
 */

#include "xsmc.h"
#include "xsHost.h"

#include "esp_wifi.h"
#include "esp_netif.h"
#include "esp_wifi_ap_get_sta_list.h"

#include <stdio.h>
#include <string.h>

/** Parses "aa:bb:cc:dd:ee:ff" (either case); 0 when it is not a MAC. */
static int parseMac(const char *text, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (6 != sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail))
		return 0;
	if (17 != strlen(text))
		return 0;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 1;
}

void xs_softap_stations_list(xsMachine *the)
{
	wifi_sta_list_t stations;
	wifi_sta_mac_ip_list_t addresses;
	char text[18];
	int i, n = 0;

	memset(&stations, 0, sizeof(stations));
	memset(&addresses, 0, sizeof(addresses));
	// Not in SoftAP mode, or no Wi-Fi yet: no stations.
	if ((ESP_OK == esp_wifi_ap_get_sta_list(&stations)) && (ESP_OK != esp_wifi_ap_get_sta_list_with_ip(&stations, &addresses)))
		addresses.num = 0;

	xsmcVars(1);
	xsmcSetNewArray(xsResult, addresses.num * 2);
	for (i = 0; i < addresses.num; i++) {
		const uint8_t *mac = addresses.sta[i].mac;
		snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
		xsmcSetString(xsVar(0), text);
		xsmcSetIndex(xsResult, n++, xsVar(0));
		// 0.0.0.0 until the DHCP server has given the station an address.
		esp_ip4addr_ntoa(&addresses.sta[i].ip, text, sizeof(text));
		xsmcSetString(xsVar(0), text);
		xsmcSetIndex(xsResult, n++, xsVar(0));
	}
}

void xs_softap_stations_deauth(xsMachine *the)
{
	uint8_t mac[6];
	uint16_t aid = 0;		// 0: every station

	if ((xsmcArgc > 0) && xsmcTest(xsArg(0))) {
		if (!parseMac(xsmcToString(xsArg(0)), mac))
			xsUnknownError("bad MAC");
		if (ESP_OK != esp_wifi_ap_get_sta_aid(mac, &aid) || (0 == aid)) {
			xsmcSetBoolean(xsResult, 0);
			return;
		}
	}
	else {
		wifi_sta_list_t stations;
		memset(&stations, 0, sizeof(stations));
		if ((ESP_OK != esp_wifi_ap_get_sta_list(&stations)) || (0 == stations.num)) {
			xsmcSetBoolean(xsResult, 0);
			return;
		}
	}

	xsmcSetBoolean(xsResult, ESP_OK == esp_wifi_deauth_sta(aid));
}
