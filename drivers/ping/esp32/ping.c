/*
 * One ICMP echo for xsock (see ../ping-native.d.ts), on ESP-IDF's esp_ping (ping/ping_sock.h),
 * the API ESP-AT's AT+PING uses: it sends ICMP or ICMPv6 by the address's family, from its own
 * task. The round trip reaches the machine's thread as a message, and onReply gets it there.
 * Moddable's `socket` RAW kind opens an IPv4 raw PCB (raw_new), so IPv6 needs this.
 *
 * The record lives until esp_ping's end callback has been delivered: the session is deleted
 * there (as ESP-IDF's ping example does; its task frees it later), and close() only stops it early.
 *
 * Needs CONFIG_LWIP_IPV6 for IPv6 addresses (ESP-IDF's default). Written against ESP-IDF's
 * documented esp_ping API; it has not been compiled with ESP-IDF nor run here.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			// for xsID_ values

#include "ping/ping_sock.h"
#include "lwip/ip_addr.h"

typedef struct {
	xsMachine			*the;
	xsSlot				obj;
	esp_ping_handle_t	session;
	uint32_t			ms;
	uint8_t				replied;
	uint8_t				closed;
	uint8_t				ended;
} modPingRecord, *modPing;

static void onSuccess(esp_ping_handle_t session, void *args)
{
	modPing ping = args;
	uint32_t ms = 0;

	esp_ping_get_profile(session, ESP_PING_PROF_TIMEGAP, &ms, sizeof(ms));
	ping->ms = ms;
	ping->replied = 1;
}

static void onTimeout(esp_ping_handle_t session, void *args)
{
	(void)session;
	(void)args;
}

static void delivered(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	modPing ping = refcon;
	(void)the; // xsBeginHost gives the block the machine it names
	(void)message;
	(void)messageLength;

	xsBeginHost(ping->the);
	xsmcVars(2);
	xsmcSetHostData(ping->obj, NULL);
	if (!ping->closed) {
		xsmcGet(xsVar(0), ping->obj, xsID_onReply);
		if (ping->replied)
			xsmcSetInteger(xsVar(1), ping->ms);
		else
			xsmcSetUndefined(xsVar(1));
		xsCallFunction1(xsVar(0), ping->obj, xsVar(1));
	}
	xsForget(ping->obj);
	xsEndHost(the);
	c_free(ping);
}

static void onEnd(esp_ping_handle_t session, void *args)
{
	modPing ping = args;

	ping->ended = 1;
	esp_ping_delete_session(session);
	modMessagePostToMachine(ping->the, NULL, 0, delivered, ping);
}

void xs_ping_destructor(void *data)
{
	(void)data;
	// Nothing: the record is the end callback's to free, and the object stays until then.
}

void xs_ping(xsMachine *the)
{
	esp_ping_config_t config = ESP_PING_DEFAULT_CONFIG();
	esp_ping_callbacks_t callbacks;
	char address[48];
	int timeout;
	modPing ping;

	xsmcVars(1);
	xsmcGet(xsVar(0), xsArg(0), xsID_address);
	xsmcToStringBuffer(xsVar(0), address, sizeof(address));
	if (!ipaddr_aton(address, &config.target_addr))
		xsRangeError("not an IP address");
	xsmcGet(xsVar(0), xsArg(0), xsID_timeout);
	timeout = xsmcToInteger(xsVar(0));
	if (timeout < 1)
		xsRangeError("a timeout of 1 ms or more");
	xsmcGet(xsVar(0), xsArg(0), xsID_onReply);
	xsmcSet(xsThis, xsID_onReply, xsVar(0));

	config.count = 1;
	config.timeout_ms = timeout;
	config.interval_ms = 0;		// else the task waits out the interval (1 s) before the end callback

	ping = c_calloc(1, sizeof(modPingRecord));
	if (!ping)
		xsUnknownError("no memory");
	ping->the = the;
	ping->obj = xsThis;

	c_memset(&callbacks, 0, sizeof(callbacks));
	callbacks.cb_args = ping;
	callbacks.on_ping_success = onSuccess;
	callbacks.on_ping_timeout = onTimeout;
	callbacks.on_ping_end = onEnd;
	if (ESP_OK != esp_ping_new_session(&config, &callbacks, &ping->session)) {
		c_free(ping);
		xsUnknownError("esp_ping_new_session failed");
	}
	xsmcSetHostData(xsThis, ping);
	xsRemember(ping->obj);
	esp_ping_start(ping->session);
}

void xs_ping_close(xsMachine *the)
{
	modPing ping = xsmcGetHostData(xsThis);

	if (!ping || ping->closed)
		return;
	ping->closed = 1;
	if (!ping->ended)
		esp_ping_stop(ping->session);		// the end callback still comes, and frees the record
}
