/*
 * One ESP-IDF network interface for xsock (see ../ipconfig-native.d.ts): its IPv4 address (static,
 * with the DHCP client stopped, or from DHCP), a SoftAP's DHCP server, its DNS servers and its
 * hostname, on esp_netif.
 *
 * The interface is found by its key each time ("WIFI_STA_DEF" and "WIFI_AP_DEF", which
 * esp_netif_create_default_wifi_sta/ap give Moddable's wifi; "ETH_DEF", ESP_NETIF_DEFAULT_ETH,
 * which Moddable's ethernet creates in its start()), so nothing dangles when a driver deletes it.
 *
 * Written against ESP-IDF's documented esp_netif API; it has not been compiled with ESP-IDF
 * nor run here.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			// for xsID_ values

#include "esp_netif.h"
#include "esp_wifi.h"
#include "dhcpserver/dhcpserver.h"	// dhcps_lease_t
#include "lwip/ip6_addr.h"			// ip6addr_ntoa_r, as ESP-AT prints IPv6 addresses

#define KEY_LENGTH	16
#define DNS_COUNT	3

typedef struct {
	char	key[KEY_LENGTH];
} modIpConfigRecord, *modIpConfig;

static const esp_netif_dns_type_t gDnsTypes[DNS_COUNT] = { ESP_NETIF_DNS_MAIN, ESP_NETIF_DNS_BACKUP, ESP_NETIF_DNS_FALLBACK };

static esp_netif_t *netifOf(xsMachine *the)
{
	modIpConfig config = xsmcGetHostData(xsThis);
	return config ? esp_netif_get_handle_from_ifkey(config->key) : NULL;
}

static void toAddress(xsMachine *the, xsSlot *slot, esp_ip4_addr_t *address)
{
	if (ESP_OK != esp_netif_str_to_ip4(xsmcToString(*slot), address))
		xsRangeError("not a dotted IPv4 address");
}

static void setAddress(xsMachine *the, xsSlot *slot, const esp_ip4_addr_t *address)
{
	char text[16];
	esp_ip4addr_ntoa(address, text, sizeof(text));
	xsmcSetString(*slot, text);
}

void xs_ipconfig_destructor(void *data)
{
	if (data)
		c_free(data);
}

void xs_ipconfig(xsMachine *the)
{
	modIpConfig config;
	char *key = xsmcToString(xsArg(0));

	if ((c_strlen(key) == 0) || (c_strlen(key) >= KEY_LENGTH))
		xsRangeError("an interface key has 1 to %d characters", KEY_LENGTH - 1);
	config = c_calloc(1, sizeof(modIpConfigRecord));
	if (!config)
		xsUnknownError("no memory");
	c_strcpy(config->key, key);
	xsmcSetHostData(xsThis, config);
}

void xs_ipconfig_info(xsMachine *the)
{
	esp_netif_ip_info_t info;
	esp_netif_t *netif = netifOf(the);

	if (!netif || (ESP_OK != esp_netif_get_ip_info(netif, &info)))
		return;
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 3);
	setAddress(the, &xsVar(0), &info.ip);
	xsmcSetIndex(xsResult, 0, xsVar(0));
	setAddress(the, &xsVar(0), &info.gw);
	xsmcSetIndex(xsResult, 1, xsVar(0));
	setAddress(the, &xsVar(0), &info.netmask);
	xsmcSetIndex(xsResult, 2, xsVar(0));
}

// Needs CONFIG_LWIP_IPV6 (ESP-IDF's default); the global address comes by SLAAC with
// CONFIG_LWIP_IPV6_AUTOCONFIG, which Moddable's sdkconfig.defaults set. Moddable's wifi and
// ethernet create the link-local one when the link comes up (esp_netif_create_ip6_linklocal).
static void setAddress6(xsMachine *the, xsSlot *slot, esp_err_t got, const esp_ip6_addr_t *address)
{
#if LWIP_IPV6
	char text[40];
	ip6_addr_t lwip;

	if (ESP_OK == got) {
		c_memcpy(lwip.addr, address->addr, sizeof(lwip.addr));
		ip6_addr_clear_zone(&lwip);
		ip6addr_ntoa_r(&lwip, text, sizeof(text));
		xsmcSetString(*slot, text);
		return;
	}
#endif
	xsmcSetString(*slot, "");		// none, or a build without IPv6
}

void xs_ipconfig_ip6(xsMachine *the)
{
	esp_ip6_addr_t address;
	esp_netif_t *netif = netifOf(the);

	if (!netif)
		return;
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 2);
	setAddress6(the, &xsVar(0), esp_netif_get_ip6_linklocal(netif, &address), &address);
	xsmcSetIndex(xsResult, 0, xsVar(0));
	setAddress6(the, &xsVar(0), esp_netif_get_ip6_global(netif, &address), &address);
	xsmcSetIndex(xsResult, 1, xsVar(0));
}

void xs_ipconfig_use_static(xsMachine *the)
{
	esp_netif_ip_info_t info;
	esp_netif_dhcp_status_t status = ESP_NETIF_DHCP_STOPPED;
	esp_netif_t *netif = netifOf(the);
	esp_err_t err;

	toAddress(the, &xsArg(0), &info.ip);
	toAddress(the, &xsArg(1), &info.gw);
	toAddress(the, &xsArg(2), &info.netmask);
	xsmcSetBoolean(xsResult, 0);
	if (!netif)
		return;
	if (esp_netif_get_flags(netif) & ESP_NETIF_DHCP_SERVER) {
		// A SoftAP: its DHCP server stops while the address changes, and serves the new one.
		esp_netif_dhcps_get_status(netif, &status);
		err = esp_netif_dhcps_stop(netif);
		if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED != err))
			xsUnknownError("esp_netif_dhcps_stop failed: %d", err);
	}
	else {
		err = esp_netif_dhcpc_stop(netif);
		if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED != err))
			xsUnknownError("esp_netif_dhcpc_stop failed: %d", err);
	}
	err = esp_netif_set_ip_info(netif, &info);
	if (ESP_NETIF_DHCP_STARTED == status)
		esp_netif_dhcps_start(netif);
	if (ESP_OK != err)
		xsUnknownError("esp_netif_set_ip_info failed: %d", err);
	xsmcSetBoolean(xsResult, 1);
}

void xs_ipconfig_serve_dhcp(xsMachine *the)
{
	esp_netif_t *netif = netifOf(the);
	uint8_t on = xsmcToBoolean(xsArg(0));
	dhcps_lease_t pool;
	uint32_t minutes = 0;		// 0: ESP-IDF's DHCPS_LEASE_TIME_DEF
	esp_err_t err, refused;

	c_memset(&pool, 0, sizeof(pool));
	if ((xsmcArgc > 2) && (xsStringType == xsmcTypeOf(xsArg(1)))) {
		pool.enable = true;
		toAddress(the, &xsArg(1), (esp_ip4_addr_t *)&pool.start_ip);	// lwIP's ip4_addr_t: the same one word
		toAddress(the, &xsArg(2), (esp_ip4_addr_t *)&pool.end_ip);
	}
	if (xsmcArgc > 3)
		minutes = xsmcToInteger(xsArg(3));
	xsmcSetBoolean(xsResult, 0);
	if (!netif)
		return;
	if (!(esp_netif_get_flags(netif) & ESP_NETIF_DHCP_SERVER))
		xsUnknownError("not a SoftAP's interface");
	err = esp_netif_dhcps_stop(netif);
	if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STOPPED != err))
		xsUnknownError("esp_netif_dhcps_stop failed: %d", err);
	// esp_netif checks the pool against the interface's address: same subnet, not the address itself, at most 100.
	refused = esp_netif_dhcps_option(netif, ESP_NETIF_OP_SET, ESP_NETIF_REQUESTED_IP_ADDRESS, &pool, sizeof(pool));
	if (ESP_OK == refused)
		esp_netif_dhcps_option(netif, ESP_NETIF_OP_SET, ESP_NETIF_IP_ADDRESS_LEASE_TIME, &minutes, sizeof(minutes));
	if (on) {
		err = esp_netif_dhcps_start(netif);
		if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED != err))
			xsUnknownError("esp_netif_dhcps_start failed: %d", err);
	}
	if (ESP_OK != refused)
		xsRangeError("esp_netif refused the DHCP pool: %d", refused);
	xsmcSetBoolean(xsResult, 1);
}

void xs_ipconfig_use_dhcp(xsMachine *the)
{
	esp_netif_ip_info_t none;
	esp_netif_dhcp_status_t status;
	esp_netif_t *netif = netifOf(the);
	esp_err_t err;

	xsmcSetBoolean(xsResult, 0);
	if (!netif)
		return;
	xsmcSetBoolean(xsResult, 1);
	if ((ESP_OK == esp_netif_dhcpc_get_status(netif, &status)) && (ESP_NETIF_DHCP_STARTED == status))
		return;		// the client runs: its lease stays
	c_memset(&none, 0, sizeof(none));
	esp_netif_set_ip_info(netif, &none);		// the static address goes
	err = esp_netif_dhcpc_start(netif);
	if ((ESP_OK != err) && (ESP_ERR_ESP_NETIF_DHCP_ALREADY_STARTED != err))
		xsUnknownError("esp_netif_dhcpc_start failed: %d", err);
}

void xs_ipconfig_dhcp_server(xsMachine *the)
{
	esp_netif_t *netif = netifOf(the);
	esp_netif_dhcp_status_t status = ESP_NETIF_DHCP_STOPPED;
	dhcps_lease_t pool;
	uint32_t minutes = 0;

	if (!netif || !(esp_netif_get_flags(netif) & ESP_NETIF_DHCP_SERVER))
		return;
	esp_netif_dhcps_get_status(netif, &status);
	c_memset(&pool, 0, sizeof(pool));
	// The pool in force: ESP-IDF fills in its own when the server starts without one set.
	esp_netif_dhcps_option(netif, ESP_NETIF_OP_GET, ESP_NETIF_REQUESTED_IP_ADDRESS, &pool, sizeof(pool));
	esp_netif_dhcps_option(netif, ESP_NETIF_OP_GET, ESP_NETIF_IP_ADDRESS_LEASE_TIME, &minutes, sizeof(minutes));
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 4);
	xsmcSetBoolean(xsVar(0), ESP_NETIF_DHCP_STARTED == status);
	xsmcSetIndex(xsResult, 0, xsVar(0));
	setAddress(the, &xsVar(0), (esp_ip4_addr_t *)&pool.start_ip);
	xsmcSetIndex(xsResult, 1, xsVar(0));
	setAddress(the, &xsVar(0), (esp_ip4_addr_t *)&pool.end_ip);
	xsmcSetIndex(xsResult, 2, xsVar(0));
	xsmcSetInteger(xsVar(0), minutes);
	xsmcSetIndex(xsResult, 3, xsVar(0));
}

void xs_ipconfig_dns(xsMachine *the)
{
	esp_netif_dns_info_t dns;
	esp_netif_t *netif = netifOf(the);
	int i, count = 0;

	if (!netif)
		return;
	xsmcVars(1);
	xsmcSetNewArray(xsResult, 0);
	for (i = 0; i < DNS_COUNT; i++) {
		if (ESP_OK != esp_netif_get_dns_info(netif, gDnsTypes[i], &dns))
			continue;
		if ((dns.ip.type != ESP_IPADDR_TYPE_V4) || (dns.ip.u_addr.ip4.addr == 0))
			continue;
		setAddress(the, &xsVar(0), &dns.ip.u_addr.ip4);
		xsmcSetIndex(xsResult, count++, xsVar(0));
	}
}

void xs_ipconfig_set_dns(xsMachine *the)
{
	esp_netif_dns_info_t dns[DNS_COUNT];
	esp_netif_t *netif = netifOf(the);
	int i, count;
	esp_err_t err;

	xsmcVars(1);
	xsmcGet(xsVar(0), xsArg(0), xsID_length);
	count = xsmcToInteger(xsVar(0));
	if ((count < 0) || (count > DNS_COUNT))
		xsRangeError("up to %d DNS servers", DNS_COUNT);
	c_memset(dns, 0, sizeof(dns));
	for (i = 0; i < DNS_COUNT; i++)
		dns[i].ip.type = ESP_IPADDR_TYPE_V4;
	for (i = 0; i < count; i++) {
		xsmcGetIndex(xsVar(0), xsArg(0), i);
		toAddress(the, &xsVar(0), &dns[i].ip.u_addr.ip4);
	}
	xsmcSetBoolean(xsResult, 0);
	if (!netif)
		return;
	for (i = 0; i < DNS_COUNT; i++) {
		err = esp_netif_set_dns_info(netif, gDnsTypes[i], &dns[i]);
		if (ESP_OK != err)
			xsUnknownError("esp_netif_set_dns_info failed: %d", err);
	}
	xsmcSetBoolean(xsResult, 1);
}

void xs_ipconfig_set_hostname(xsMachine *the)
{
	esp_netif_t *netif = netifOf(the);
	char *name = xsmcToString(xsArg(0));
	esp_err_t err;

	if ((c_strlen(name) == 0) || (c_strlen(name) > 32))
		xsRangeError("a hostname has 1 to 32 characters");
	xsmcSetBoolean(xsResult, 0);
	if (!netif)
		return;
	err = esp_netif_set_hostname(netif, name);		// esp_netif keeps its own copy
	if (ESP_OK != err)
		xsUnknownError("esp_netif_set_hostname failed: %d", err);
	xsmcSetBoolean(xsResult, 1);
}

void xs_ipconfig_set_mac(xsMachine *the)
{
	modIpConfig config = xsmcGetHostData(xsThis);
	char *text = xsmcToString(xsArg(0));
	unsigned int bytes[6];
	uint8_t mac[6];
	char end;
	int i;
	wifi_interface_t wifiInterface;

	if ((c_strlen(text) != 17) || (6 != sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &bytes[0], &bytes[1], &bytes[2], &bytes[3], &bytes[4], &bytes[5], &end)))
		xsRangeError("a MAC is aa:bb:cc:dd:ee:ff");
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)bytes[i];
	xsmcSetBoolean(xsResult, 0);
	if (!config)
		return;
	if (0 == c_strcmp(config->key, "WIFI_STA_DEF"))
		wifiInterface = WIFI_IF_STA;
	else if (0 == c_strcmp(config->key, "WIFI_AP_DEF"))
		wifiInterface = WIFI_IF_AP;
	else
		return;
	// ESP-IDF refuses a multicast MAC and an interface the Wi-Fi mode lacks: the console answers ERROR.
	if (ESP_OK == esp_wifi_set_mac(wifiInterface, mac))
		xsmcSetBoolean(xsResult, 1);
}
