/*
 * The ESP32's TWAI (CAN) controller for xsock, on ESP-IDF's TWAI driver (driver/twai.h).
 *
 * The boundary with JavaScript is small (see ../twai-native.d.ts): frames cross it packed as
 * SocketCAN's 16-byte struct can_frame, and a task waits for the driver's alerts and posts
 * them to the XS machine, which calls the object's onAlert(alerts). One delivery is on its
 * way at a time; alerts raised meanwhile join it.
 *
 * Written against ESP-IDF's documented API; it has not been compiled or run here.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			// for xsID_ values

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "driver/twai.h"

// linux/can.h
#define CAN_EFF_FLAG	0x80000000U
#define CAN_RTR_FLAG	0x40000000U
#define CAN_ERR_FLAG	0x20000000U
#define CAN_SFF_MASK	0x000007FFU
#define CAN_EFF_MASK	0x1FFFFFFFU
#define CAN_MAX_DLEN	8
#define CAN_MTU			16

// How long the alert task waits for an alert before it looks whether it should end.
#define ALERT_WAIT_MS	50
#define ALERT_TASK_STACK	3072

#define ALERTS (TWAI_ALERT_TX_IDLE | TWAI_ALERT_TX_SUCCESS | TWAI_ALERT_TX_FAILED | TWAI_ALERT_RX_DATA | \
	TWAI_ALERT_RX_QUEUE_FULL | TWAI_ALERT_RX_FIFO_OVERRUN | TWAI_ALERT_ERR_ACTIVE | TWAI_ALERT_ABOVE_ERR_WARN | \
	TWAI_ALERT_BELOW_ERR_WARN | TWAI_ALERT_ERR_PASS | TWAI_ALERT_BUS_OFF | TWAI_ALERT_BUS_RECOVERED | \
	TWAI_ALERT_BUS_ERROR | TWAI_ALERT_ARB_LOST)

typedef struct {
	xsMachine		*the;
	xsSlot			obj;
	TaskHandle_t	task;
	portMUX_TYPE	lock;
	uint32_t		alerts;		// raised since the last delivery
	volatile uint8_t	running;	// the alert task runs while set
	volatile uint8_t	taskEnded;
	uint8_t			posted;		// a delivery is on its way
	uint8_t			closed;		// closed while a delivery was on its way: the delivery frees it
} modTwaiRecord, *modTwai;

static void twaiAlertTask(void *refcon);
static void twaiDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
static void twaiTeardown(modTwai twai);

/** ESP-IDF's timing preset for a bitrate; 0 when it has none. */
static int timingFor(int bitrate, twai_timing_config_t *timing)
{
	switch (bitrate) {
		case 25000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_25KBITS(); return 1;
		case 50000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_50KBITS(); return 1;
		case 100000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_100KBITS(); return 1;
		case 125000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_125KBITS(); return 1;
		case 250000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_250KBITS(); return 1;
		case 500000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_500KBITS(); return 1;
		case 800000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_800KBITS(); return 1;
		case 1000000: *timing = (twai_timing_config_t)TWAI_TIMING_CONFIG_1MBITS(); return 1;
	}
	return 0;
}

static int optionInteger(xsMachine *the, xsIdentifier id, const char *name)
{
	if (!xsmcHas(xsArg(0), id))
		xsUnknownError("TWAI option missing: %s", name);
	xsmcGet(xsVar(0), xsArg(0), id);
	return xsmcToInteger(xsVar(0));
}

static modTwai twaiOf(xsMachine *the)
{
	modTwai twai = xsmcGetHostData(xsThis);
	if (!twai)
		xsUnknownError("TWAI closed");
	return twai;
}

void xs_twai_destructor(void *data)
{
	modTwai twai = data;
	if (!twai)
		return;
	twaiTeardown(twai);
	if (!twai->posted)
		c_free(twai);
	else
		twai->closed = 1;
}

void xs_twai(xsMachine *the)
{
	modTwai twai;
	twai_timing_config_t timing;
	int transmit, receive, bitrate, mode, txQueue, rxQueue;
	uint32_t code, mask;
	esp_err_t err;

	xsmcVars(1);
	transmit = optionInteger(the, xsID_transmit, "transmit");
	receive = optionInteger(the, xsID_receive, "receive");
	bitrate = optionInteger(the, xsID_bitrate, "bitrate");
	mode = optionInteger(the, xsID_mode, "mode");
	code = (uint32_t)optionInteger(the, xsID_code, "code");
	mask = (uint32_t)optionInteger(the, xsID_mask, "mask");
	txQueue = optionInteger(the, xsID_txQueue, "txQueue");
	rxQueue = optionInteger(the, xsID_rxQueue, "rxQueue");
	if (!timingFor(bitrate, &timing))
		xsRangeError("TWAI runs at 25000, 50000, 100000, 125000, 250000, 500000, 800000 or 1000000 bit/s");
	if ((mode < TWAI_MODE_NORMAL) || (mode > TWAI_MODE_LISTEN_ONLY))
		xsRangeError("TWAI mode is 0 (normal), 1 (no-ack) or 2 (listen-only)");
	if ((txQueue < 1) || (rxQueue < 1))
		xsRangeError("TWAI queues hold at least one frame");
	xsmcGet(xsVar(0), xsArg(0), xsID_onAlert);
	if (xsReferenceType != xsmcTypeOf(xsVar(0)))
		xsTypeError("TWAI needs an onAlert function");
	xsmcSet(xsThis, xsID_onAlert, xsVar(0));

	twai_general_config_t general = TWAI_GENERAL_CONFIG_DEFAULT(transmit, receive, mode);
	general.tx_queue_len = txQueue;
	general.rx_queue_len = rxQueue;
	general.alerts_enabled = ALERTS;
	twai_filter_config_t filter = {.acceptance_code = code, .acceptance_mask = mask, .single_filter = true};

	twai = c_calloc(1, sizeof(modTwaiRecord));
	if (!twai)
		xsUnknownError("no memory");
	portMUX_INITIALIZE(&twai->lock);

	err = twai_driver_install(&general, &timing, &filter);
	if (ESP_OK != err) {
		c_free(twai);
		if (ESP_ERR_INVALID_STATE == err)
			xsUnknownError("TWAI is in use");
		xsUnknownError("twai_driver_install failed (pins %d, %d)", transmit, receive);
	}
	err = twai_start();
	if (ESP_OK != err) {
		twai_driver_uninstall();
		c_free(twai);
		xsUnknownError("twai_start failed");
	}

	twai->the = the;
	twai->obj = xsThis;
	twai->running = 1;
	if (pdPASS != xTaskCreate(twaiAlertTask, "twai", ALERT_TASK_STACK, twai, tskIDLE_PRIORITY + 2, &twai->task)) {
		twai->taskEnded = 1;
		twaiTeardown(twai);
		c_free(twai);
		xsUnknownError("no memory for the TWAI alert task");
	}
	xsRemember(twai->obj);
	xsmcSetHostData(xsThis, twai);
}

void xs_twai_close(xsMachine *the)
{
	modTwai twai = xsmcGetHostData(xsThis);
	if (!twai)
		return;
	xsForget(twai->obj);
	xsmcSetHostData(xsThis, NULL);
	xs_twai_destructor(twai);
}

void xs_twai_write(xsMachine *the)
{
	twai_message_t message = {0};
	void *data;
	xsUnsignedValue length;
	uint8_t *bytes;
	uint32_t id;
	esp_err_t err;

	twaiOf(the);
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (CAN_MTU != length)
		xsRangeError("a frame is a 16-byte struct can_frame");
	bytes = data;
	id = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | ((uint32_t)bytes[3] << 24);
	if (id & CAN_ERR_FLAG)
		xsRangeError("error frames are not sent");
	if (bytes[4] > CAN_MAX_DLEN)
		xsRangeError("a CAN frame's length is 0 to 8");

	message.extd = (id & CAN_EFF_FLAG) ? 1 : 0;
	message.rtr = (id & CAN_RTR_FLAG) ? 1 : 0;
	message.identifier = id & (message.extd ? CAN_EFF_MASK : CAN_SFF_MASK);
	message.data_length_code = bytes[4];
	if (!message.rtr)
		c_memcpy(message.data, bytes + 8, bytes[4]);

	err = twai_transmit(&message, 0);
	if (ESP_OK == err)
		xsmcSetTrue(xsResult);
	else if (ESP_ERR_TIMEOUT == err)
		xsmcSetFalse(xsResult);		// the transmit queue is full
	else if (ESP_ERR_NOT_SUPPORTED == err)
		xsUnknownError("listen-only mode does not transmit");
	else if (ESP_ERR_INVALID_STATE == err)
		xsUnknownError("TWAI is not running (bus-off?)");
	else
		xsUnknownError("twai_transmit failed");
}

void xs_twai_read(xsMachine *the)
{
	twai_message_t message;
	void *data;
	xsUnsignedValue length;
	uint8_t *bytes;
	uint32_t id;
	uint8_t len;

	twaiOf(the);
	xsmcGetBufferWritable(xsArg(0), &data, &length);
	if (length < CAN_MTU)
		xsRangeError("a frame needs 16 bytes");
	if (ESP_OK != twai_receive(&message, 0)) {
		xsmcSetFalse(xsResult);
		return;
	}

	id = message.identifier & (message.extd ? CAN_EFF_MASK : CAN_SFF_MASK);
	if (message.extd)
		id |= CAN_EFF_FLAG;
	if (message.rtr)
		id |= CAN_RTR_FLAG;
	len = (message.data_length_code > CAN_MAX_DLEN) ? CAN_MAX_DLEN : message.data_length_code;	// DLC 9 to 15 carry 8 bytes

	bytes = data;
	c_memset(bytes, 0, CAN_MTU);
	bytes[0] = id & 0xFF;
	bytes[1] = (id >> 8) & 0xFF;
	bytes[2] = (id >> 16) & 0xFF;
	bytes[3] = (id >> 24) & 0xFF;
	bytes[4] = len;
	if (!message.rtr)
		c_memcpy(bytes + 8, message.data, len);
	xsmcSetTrue(xsResult);
}

void xs_twai_status(xsMachine *the)
{
	twai_status_info_t info;
	int i, count;

	twaiOf(the);
	if (ESP_OK != twai_get_status_info(&info))
		xsUnknownError("twai_get_status_info failed");
	uint32_t values[] = {
		info.state, info.tx_error_counter, info.rx_error_counter, info.msgs_to_tx, info.msgs_to_rx,
		info.tx_failed_count, info.rx_missed_count, info.rx_overrun_count, info.arb_lost_count, info.bus_error_count,
	};
	xsmcVars(1);
	count = (int)(sizeof(values) / sizeof(values[0]));
	xsmcSetNewArray(xsResult, count);
	for (i = 0; i < count; i++) {
		xsmcSetInteger(xsVar(0), (xsIntegerValue)values[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
}

void xs_twai_start(xsMachine *the)
{
	twaiOf(the);
	if (ESP_OK != twai_start())
		xsUnknownError("TWAI is not stopped");
}

void xs_twai_recover(xsMachine *the)
{
	twaiOf(the);
	if (ESP_OK != twai_initiate_recovery())
		xsUnknownError("TWAI is not bus-off");
}

/** Waits for alerts and posts them to the machine, one delivery on its way at a time. */
static void twaiAlertTask(void *refcon)
{
	modTwai twai = refcon;

	while (twai->running) {
		uint32_t alerts = 0;
		uint8_t post;

		if ((ESP_OK != twai_read_alerts(&alerts, pdMS_TO_TICKS(ALERT_WAIT_MS))) || !alerts)
			continue;
		portENTER_CRITICAL(&twai->lock);
		twai->alerts |= alerts;
		post = !twai->posted;
		twai->posted = 1;
		portEXIT_CRITICAL(&twai->lock);
		if (post && modMessagePostToMachine(twai->the, NULL, 0, twaiDeliver, twai)) {
			portENTER_CRITICAL(&twai->lock);	// the machine's queue is full: the next alert tries again
			twai->posted = 0;
			portEXIT_CRITICAL(&twai->lock);
		}
	}
	twai->taskEnded = 1;
	vTaskDelete(NULL);
}

static void twaiDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	modTwai twai = refcon;
	uint32_t alerts;

	portENTER_CRITICAL(&twai->lock);
	alerts = twai->alerts;
	twai->alerts = 0;
	twai->posted = 0;
	portEXIT_CRITICAL(&twai->lock);
	if (twai->closed) {
		c_free(twai);
		return;
	}
	xsBeginHost(the);
		xsCall1(twai->obj, xsID_onAlert, xsInteger(alerts));
	xsEndHost(the);
}

/** Ends the alert task, then stops and uninstalls the driver. */
static void twaiTeardown(modTwai twai)
{
	twai_status_info_t info;
	int waited;

	twai->running = 0;
	while (!twai->taskEnded)
		vTaskDelay(1);
	// Recovery takes 128 x 11 bits (56 ms at 25 kbit/s); the driver uninstalls only once it has stopped.
	for (waited = 0; (ESP_OK == twai_get_status_info(&info)) && (TWAI_STATE_RECOVERING == info.state) && (waited < 100); waited++)
		vTaskDelay(pdMS_TO_TICKS(1));
	if ((ESP_OK == twai_get_status_info(&info)) && (TWAI_STATE_RUNNING == info.state))
		twai_stop();
	twai_driver_uninstall();
}
