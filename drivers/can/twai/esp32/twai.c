/*
 * The ESP32's TWAI (CAN) controller for xsock, on ESP-IDF's TWAI driver (esp_driver_twai:
 * esp_twai.h, esp_twai_onchip.h), on every chip with a TWAI, the TWAI-FD ones (ESP32-C5,
 * ESP32-H4) included.
 *
 * The boundary with JavaScript is small (see ../twai-native.d.ts) and is the one the legacy
 * driver (driver/twai.h) had: frames cross it packed as SocketCAN's 16-byte struct can_frame,
 * onAlert(alerts) gets the legacy driver's TWAI_ALERT_* bits, status() its twai_status_info_t
 * and twai_state_t, and a recovered controller stays stopped until start(). The node's event
 * callbacks run in the TWAI interrupt: they copy received frames into a FreeRTOS queue, free
 * the transmit slots the driver is done with, gather alerts, and wake a task that posts them to
 * the XS machine (modMessagePostToMachine), which calls onAlert: one delivery is on its way at
 * a time, and alerts raised meanwhile join it. The callbacks and what they touch are in IRAM
 * and internal RAM, so CONFIG_TWAI_ISR_CACHE_SAFE may be set.
 *
 *	legacy driver/twai.h					esp_driver_twai
 *	twai_driver_install, twai_start			twai_new_node_onchip, twai_node_register_event_callbacks,
 *											twai_node_config_mask_filter, twai_node_enable
 *	twai_stop, twai_driver_uninstall		twai_node_disable, twai_node_delete
 *	twai_transmit							twai_node_transmit (frames stay ours until on_tx_done)
 *	twai_receive							twai_node_receive_from_isr in on_rx_done, into our queue
 *	twai_read_alerts						on_rx_done, on_tx_done, on_state_change, on_error
 *	twai_initiate_recovery					twai_node_recover
 *	twai_get_status_info					twai_node_get_info, and our own counts
 *	TWAI_TIMING_CONFIG_*()					the same presets, through twai_node_reconfig_timing
 *
 * CAN FD is not implemented: the driver tells xsock/can fd = false, write() refuses more than
 * 8 bytes, and FD frames a TWAI-FD controller receives are dropped here. Where the controller
 * carries FD (SOC_TWAI_FD_SUPPORTED), the socket module's FD path would use it this way: frames
 * would cross the boundary as CANFD_MTU (72-byte struct canfd_frame); twai_frame_header_t's fdf
 * stands for CANFD_FDF and brs for CANFD_BRS (esi, read back, for CANFD_ESI), dlc comes from
 * twaifd_len2dlc(len) with a buffer of up to 64 bytes (TWAIFD_FRAME_MAX_LEN), both ways; the node
 * needs a data-phase bitrate in twai_onchip_node_config_t's data_timing (or data_timing of
 * twai_node_reconfig_timing), without which the driver refuses brs; and the mask filters would
 * leave no_fd clear.
 */

#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"			// for xsID_ values

#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "freertos/queue.h"
#include "freertos/idf_additions.h"
#include "esp_attr.h"
#include "esp_heap_caps.h"
#include "esp_clk_tree.h"
#include "soc/soc_caps.h"
#include "esp_twai.h"
#include "esp_twai_onchip.h"

// linux/can.h
#define CAN_EFF_FLAG	0x80000000U
#define CAN_RTR_FLAG	0x40000000U
#define CAN_ERR_FLAG	0x20000000U
#define CAN_SFF_MASK	0x000007FFU
#define CAN_EFF_MASK	0x1FFFFFFFU
#define CAN_MAX_DLEN	8
#define CAN_MTU			16

// The legacy driver's alerts (TWAI_ALERT_* of driver/twai.h), which twai.ts reads.
#define ALERT_TX_IDLE			0x0001
#define ALERT_TX_SUCCESS		0x0002
#define ALERT_RX_DATA			0x0004
#define ALERT_BELOW_ERR_WARN	0x0008
#define ALERT_ERR_ACTIVE		0x0010
#define ALERT_BUS_RECOVERED		0x0040
#define ALERT_ARB_LOST			0x0080
#define ALERT_ABOVE_ERR_WARN	0x0100
#define ALERT_BUS_ERROR			0x0200
#define ALERT_TX_FAILED			0x0400
#define ALERT_RX_QUEUE_FULL		0x0800
#define ALERT_ERR_PASS			0x1000
#define ALERT_BUS_OFF			0x2000
// Ours, not handed over: the error state changed, the delivery looks at the counters.
#define ALERT_STATE_CHANGED		0x80000000U

// The legacy driver's twai_state_t and twai_mode_t, as status() and the options give them.
#define STATE_STOPPED		0
#define STATE_RUNNING		1
#define STATE_BUS_OFF		2
#define STATE_RECOVERING	3
#define MODE_NORMAL			0
#define MODE_NO_ACK			1
#define MODE_LISTEN_ONLY	2

// The controller's error warning limit (the legacy driver's default) and ISO 11898's error-passive one.
#define ERROR_WARNING	96
#define ERROR_PASSIVE	128

// How long the alert task waits before it posts again when the machine's queue was full.
#define ALERT_WAIT_MS	50
#define ALERT_TASK_STACK	3072

#define NO_SLOT		0xFFFF
#define TWAI_CAPS	(MALLOC_CAP_INTERNAL | MALLOC_CAP_8BIT)

/** A frame handed to twai_node_transmit: the driver keeps a pointer to it until on_tx_done. */
typedef struct {
	twai_frame_t	frame;
	uint8_t			data[CAN_MAX_DLEN];
} modTwaiTxRecord;

typedef struct {
	xsMachine			*the;
	xsSlot				obj;
	twai_node_handle_t	node;
	QueueHandle_t		rx;			// received frames, packed struct can_frame
	TaskHandle_t		task;
	portMUX_TYPE		lock;		// what follows, between the interrupt, the task and the machine
	uint32_t			alerts;		// raised since the last delivery
	uint32_t			txFailed;
	uint32_t			rxMissed;	// the receive queue was full
	uint32_t			arbLost;
	uint32_t			busErrors;
	uint16_t			txSlots;	// transmit slots, a ring: txCount of them from txTail are the driver's
	uint16_t			txHead;
	uint16_t			txTail;
	uint16_t			txCount;
	uint16_t			txLost;		// the slot on the wire when a classic controller went bus-off, or NO_SLOT
	uint8_t				busOff;
	uint8_t				recovering;	// twai_node_recover called, recovery not over
	uint8_t				stopped;	// recovered, until start(): the legacy driver's TWAI_STATE_STOPPED
	uint8_t				posted;		// a delivery is on its way
	uint8_t				closed;		// closed while a delivery was on its way: the delivery frees it
	uint8_t				mode;
	uint8_t				level;		// the error state the alerts last told: 0 error-active, 1 warning, 2 passive
	volatile uint8_t	running;	// the alert task runs while set
	volatile uint8_t	taskEnded;
	modTwaiTxRecord		tx[];		// txSlots
} modTwaiRecord, *modTwai;

/** The legacy driver's TWAI_TIMING_CONFIG_*() presets (ESP32, -S2, -S3, -C3): tseg1 counts prop_seg in. */
typedef struct {
	uint32_t	bitrate;
	uint8_t		tseg1;
	uint8_t		tseg2;
	uint8_t		sjw;
} modTwaiTiming;

static const modTwaiTiming gTimings[] = {
	{25000, 16, 8, 3},
	{50000, 15, 4, 3},
	{100000, 15, 4, 3},
	{125000, 11, 4, 3},
	{250000, 11, 4, 2},
	{500000, 11, 4, 2},
	{800000, 6, 3, 1},
	{1000000, 5, 2, 1},
};

static modTwai gTwai;		// one at a time, as the legacy driver installed once

static bool twaiOnTransmit(twai_node_handle_t node, const twai_tx_done_event_data_t *edata, void *context);
static bool twaiOnReceive(twai_node_handle_t node, const twai_rx_done_event_data_t *edata, void *context);
static bool twaiOnState(twai_node_handle_t node, const twai_state_change_event_data_t *edata, void *context);
static bool twaiOnError(twai_node_handle_t node, const twai_error_event_data_t *edata, void *context);
static void twaiAlertTask(void *refcon);
static void twaiDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength);
static void twaiTeardown(modTwai twai);

static const modTwaiTiming *timingFor(int bitrate)
{
	int i;
	for (i = 0; i < (int)(sizeof(gTimings) / sizeof(gTimings[0])); i++) {
		if ((int)gTimings[i].bitrate == bitrate)
			return &gTimings[i];
	}
	return NULL;
}

/**
 * Gives the node the legacy preset's bit timing. The node config's bitrate alone lets the driver
 * pick its own quanta and sample point (68 % at 50 and 100 kbit/s on a classic controller,
 * where the presets have 80 %); when the clock does not divide into the preset, that stays.
 */
static void twaiPresetTiming(twai_node_handle_t node, const modTwaiTiming *preset)
{
	uint32_t hz, quanta = 1 + preset->tseg1 + preset->tseg2, brp;
	uint8_t prop = (preset->tseg1 / 4) ? (preset->tseg1 / 4) : 1;
	twai_timing_advanced_config_t timing = {0};

	if (ESP_OK != esp_clk_tree_src_get_freq_hz((soc_module_clk_t)TWAI_CLK_SRC_DEFAULT, ESP_CLK_TREE_SRC_FREQ_PRECISION_CACHED, &hz))
		return;
	brp = hz / (preset->bitrate * quanta);
	if (!brp || ((brp * preset->bitrate * quanta) != hz))
		return;
#if !SOC_TWAI_FD_SUPPORTED
	if (brp & 1)
		return;		// the classic controller's prescaler is even
#endif
	timing.brp = brp;
	timing.prop_seg = prop;
	timing.tseg_1 = preset->tseg1 - prop;
	timing.tseg_2 = preset->tseg2;
	timing.sjw = preset->sjw;
	twai_node_reconfig_timing(node, &timing, NULL);
}

/**
 * The legacy single acceptance filter (its register layout: a standard frame's id in bits 31-21
 * and RTR in bit 20, an extended frame's id in bits 31-3 and RTR in bit 2; a 1 in mask need not
 * match) as the node's mask filters, which take an id of one format and a mask whose 1s must
 * match. The legacy filter matched frames of both formats against the same bits; mask filters
 * do not look at RTR. The filter only spares the receive queue (sockets filter again above it),
 * so what cannot be said exactly is said wider, never narrower.
 */
static esp_err_t twaiFilter(twai_node_handle_t node, uint32_t code, uint32_t mask)
{
	uint32_t care = ~mask;

	code &= care;
	if (!care)
		return ESP_OK;			// every frame: the node's own default
#if SOC_TWAI_MASK_FILTER_NUM >= 2
	{
		// Both readings of the bits, one filter each: frames of either format pass as they did.
		twai_mask_filter_config_t standard = {.id = code >> 21, .mask = care >> 21, .no_fd = 1};
		twai_mask_filter_config_t extended = {.id = (code >> 3) & CAN_EFF_MASK, .mask = (care >> 3) & CAN_EFF_MASK, .is_ext = 1, .no_fd = 1};
		esp_err_t err = twai_node_config_mask_filter(node, 0, &standard);
		if (ESP_OK == err)
			err = twai_node_config_mask_filter(node, 1, &extended);
		return err;
	}
#else
	// One filter, of one format. twai.ts sets bits 19-2 only for an extended frame's filter; one
	// that cares about bits 31-20 alone could be of either format, so it takes every frame.
	if (!(care & 0x000FFFFCU))
		return ESP_OK;
	{
		twai_mask_filter_config_t extended = {.id = (code >> 3) & CAN_EFF_MASK, .mask = (care >> 3) & CAN_EFF_MASK, .is_ext = 1};
		return twai_node_config_mask_filter(node, 0, &extended);
	}
#endif
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
		heap_caps_free(twai);
	else
		twai->closed = 1;
}

void xs_twai(xsMachine *the)
{
	modTwai twai;
	const modTwaiTiming *timing;
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
	timing = timingFor(bitrate);
	if (!timing)
		xsRangeError("TWAI runs at 25000, 50000, 100000, 125000, 250000, 500000, 800000 or 1000000 bit/s");
	if ((mode < MODE_NORMAL) || (mode > MODE_LISTEN_ONLY))
		xsRangeError("TWAI mode is 0 (normal), 1 (no-ack) or 2 (listen-only)");
	if ((txQueue < 1) || (rxQueue < 1))
		xsRangeError("TWAI queues hold at least one frame");
	if (txQueue >= (NO_SLOT - 1))
		xsRangeError("TWAI transmit queue too long");
	xsmcGet(xsVar(0), xsArg(0), xsID_onAlert);
	if (xsReferenceType != xsmcTypeOf(xsVar(0)))
		xsTypeError("TWAI needs an onAlert function");
	xsmcSet(xsThis, xsID_onAlert, xsVar(0));
	if (gTwai)
		xsUnknownError("TWAI is in use");

	// As many slots as frames the legacy driver held: its queue and the one on the wire.
	twai = heap_caps_calloc(1, sizeof(modTwaiRecord) + ((size_t)txQueue + 1) * sizeof(modTwaiTxRecord), TWAI_CAPS);
	if (!twai)
		xsUnknownError("no memory");
	portMUX_INITIALIZE(&twai->lock);
	twai->the = the;
	twai->obj = xsThis;
	twai->mode = (uint8_t)mode;
	twai->txSlots = (uint16_t)(txQueue + 1);
	twai->txLost = NO_SLOT;
	twai->rx = xQueueCreateWithCaps((UBaseType_t)rxQueue, CAN_MTU, TWAI_CAPS);
	if (!twai->rx) {
		twaiTeardown(twai);
		heap_caps_free(twai);
		xsUnknownError("no memory");
	}

	twai_onchip_node_config_t config = {
		.io_cfg = {
			.tx = (gpio_num_t)transmit,
			.rx = (gpio_num_t)receive,
			.quanta_clk_out = GPIO_NUM_NC,
			.bus_off_indicator = GPIO_NUM_NC,
		},
		.clk_src = TWAI_CLK_SRC_DEFAULT,
		.bit_timing = {.bitrate = (uint32_t)bitrate},
		.fail_retry_cnt = -1,		// retransmit until sent, as the legacy driver did (no single shot)
		// Room for every slot, so that a frame the slots let through always finds room.
		.tx_queue_depth = twai->txSlots,
		.flags = {
			.enable_self_test = (MODE_NO_ACK == mode),
			.enable_listen_only = (MODE_LISTEN_ONLY == mode),
		},
	};
	err = twai_new_node_onchip(&config, &twai->node);
	if (ESP_OK != err) {
		twai->node = NULL;
		twaiTeardown(twai);
		heap_caps_free(twai);
		if (ESP_ERR_NOT_FOUND == err)
			xsUnknownError("TWAI is in use");
		xsUnknownError("twai_new_node_onchip failed (pins %d, %d)", transmit, receive);
	}
	twaiPresetTiming(twai->node, timing);

	twai_event_callbacks_t callbacks = {
		.on_tx_done = twaiOnTransmit,
		.on_rx_done = twaiOnReceive,
		.on_state_change = twaiOnState,
		.on_error = twaiOnError,
	};
	err = twaiFilter(twai->node, code, mask);
	if (ESP_OK == err)
		err = twai_node_register_event_callbacks(twai->node, &callbacks, twai);
	if (ESP_OK != err) {
		twaiTeardown(twai);
		heap_caps_free(twai);
		xsUnknownError("TWAI configuration failed");
	}

	twai->running = 1;
	if (pdPASS != xTaskCreate(twaiAlertTask, "twai", ALERT_TASK_STACK, twai, tskIDLE_PRIORITY + 2, &twai->task)) {
		twai->running = 0;
		twai->task = NULL;
		twaiTeardown(twai);
		heap_caps_free(twai);
		xsUnknownError("no memory for the TWAI alert task");
	}
	if (ESP_OK != twai_node_enable(twai->node)) {
		twaiTeardown(twai);
		heap_caps_free(twai);
		xsUnknownError("twai_node_enable failed");
	}

	gTwai = twai;
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
	modTwai twai = twaiOf(the);
	modTwaiTxRecord *record;
	void *data;
	xsUnsignedValue length;
	uint8_t *bytes;
	uint32_t id;
	uint16_t slot = 0;
	uint8_t running, full, extended, remote;
	esp_err_t err;

	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (CAN_MTU != length)
		xsRangeError("a frame is a 16-byte struct can_frame");
	bytes = data;
	id = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | ((uint32_t)bytes[3] << 24);
	if (id & CAN_ERR_FLAG)
		xsRangeError("error frames are not sent");
	if (bytes[4] > CAN_MAX_DLEN)
		xsRangeError("a CAN frame's length is 0 to 8");
	if (MODE_LISTEN_ONLY == twai->mode)
		xsUnknownError("listen-only mode does not transmit");

	portENTER_CRITICAL(&twai->lock);
	running = !twai->busOff && !twai->stopped;
	full = twai->txCount >= twai->txSlots;
	if (running && !full)
		slot = twai->txHead;
	portEXIT_CRITICAL(&twai->lock);
	if (!running)
		xsUnknownError("TWAI is not running (bus-off?)");
	if (full) {
		xsmcSetFalse(xsResult);		// the transmit queue is full
		return;
	}

	// The slot at txHead is nobody's until it is counted in.
	extended = (id & CAN_EFF_FLAG) ? 1 : 0;
	remote = (id & CAN_RTR_FLAG) ? 1 : 0;
	record = &twai->tx[slot];
	c_memset(record, 0, sizeof(modTwaiTxRecord));
	record->frame.header.id = id & (extended ? CAN_EFF_MASK : CAN_SFF_MASK);
	record->frame.header.ide = extended;
	record->frame.header.rtr = remote;
	record->frame.header.dlc = bytes[4];
	record->frame.buffer = record->data;
	if (!remote) {
		c_memcpy(record->data, bytes + 8, bytes[4]);
		record->frame.buffer_len = bytes[4];
	}
	portENTER_CRITICAL(&twai->lock);
	twai->txHead = (slot + 1 == twai->txSlots) ? 0 : slot + 1;
	twai->txCount += 1;
	portEXIT_CRITICAL(&twai->lock);

	err = twai_node_transmit(twai->node, &record->frame, 0);
	if (ESP_OK == err) {
		xsmcSetTrue(xsResult);
		return;
	}

	// The driver did not take it: the slot, the newest, is free again.
	portENTER_CRITICAL(&twai->lock);
	twai->txHead = slot;
	twai->txCount -= 1;
	if (twai->txLost == slot)
		twai->txLost = NO_SLOT;
	portEXIT_CRITICAL(&twai->lock);
	if (ESP_ERR_TIMEOUT == err)
		xsmcSetFalse(xsResult);
	else if (ESP_ERR_NOT_SUPPORTED == err)
		xsUnknownError("listen-only mode does not transmit");
	else if (ESP_ERR_INVALID_STATE == err)
		xsUnknownError("TWAI is not running (bus-off?)");
	else
		xsUnknownError("twai_node_transmit failed");
}

void xs_twai_read(xsMachine *the)
{
	modTwai twai = twaiOf(the);
	void *data;
	xsUnsignedValue length;

	xsmcGetBufferWritable(xsArg(0), &data, &length);
	if (length < CAN_MTU)
		xsRangeError("a frame needs 16 bytes");
	// The interrupt packed it (see twaiOnReceive).
	if (pdTRUE == xQueueReceive(twai->rx, data, 0))
		xsmcSetTrue(xsResult);
	else
		xsmcSetFalse(xsResult);
}

void xs_twai_status(xsMachine *the)
{
	modTwai twai = twaiOf(the);
	twai_node_status_t status;
	uint32_t values[10];
	uint8_t recovering, stopped;
	int i, count;

	if (ESP_OK != twai_node_get_info(twai->node, &status, NULL))
		xsUnknownError("twai_node_get_info failed");
	portENTER_CRITICAL(&twai->lock);
	recovering = twai->recovering;
	stopped = twai->stopped;
	values[3] = twai->txCount;
	values[5] = twai->txFailed;
	values[6] = twai->rxMissed;
	values[8] = twai->arbLost;
	values[9] = twai->busErrors;
	portEXIT_CRITICAL(&twai->lock);
	if (TWAI_ERROR_BUS_OFF == status.state)
		values[0] = recovering ? STATE_RECOVERING : STATE_BUS_OFF;
	else
		values[0] = stopped ? STATE_STOPPED : STATE_RUNNING;
	values[1] = status.tx_error_count;
	values[2] = status.rx_error_count;
	values[4] = uxQueueMessagesWaiting(twai->rx);
	values[7] = 0;		// the driver clears FIFO overruns without telling them

	xsmcVars(1);
	count = (int)(sizeof(values) / sizeof(values[0]));
	xsmcSetNewArray(xsResult, count);
	for (i = 0; i < count; i++) {
		xsmcSetInteger(xsVar(0), (xsIntegerValue)values[i]);
		xsmcSetIndex(xsResult, i, xsVar(0));
	}
}

/** Runs a recovered controller again: the legacy twai_start, which began with an empty receive queue. */
void xs_twai_start(xsMachine *the)
{
	modTwai twai = twaiOf(the);
	uint8_t stopped;

	portENTER_CRITICAL(&twai->lock);
	stopped = twai->stopped;
	portEXIT_CRITICAL(&twai->lock);
	if (!stopped)
		xsUnknownError("TWAI is not stopped");
	xQueueReset(twai->rx);		// nothing comes in while stopped (see twaiOnReceive)
	twai->level = 0;
	portENTER_CRITICAL(&twai->lock);
	twai->stopped = 0;
	portEXIT_CRITICAL(&twai->lock);
}

void xs_twai_recover(xsMachine *the)
{
	modTwai twai = twaiOf(the);
	uint8_t busOff;

	portENTER_CRITICAL(&twai->lock);
	busOff = twai->busOff && !twai->recovering;
	if (busOff)
		twai->recovering = 1;
	portEXIT_CRITICAL(&twai->lock);
	if (!busOff)
		xsUnknownError("TWAI is not bus-off");
	if (ESP_OK != twai_node_recover(twai->node)) {
		portENTER_CRITICAL(&twai->lock);
		twai->recovering = 0;
		portEXIT_CRITICAL(&twai->lock);
		xsUnknownError("TWAI is not bus-off");
	}
}

/* ---------------------------------- the TWAI interrupt ----------------------------------- */

/** Adds alerts to the next delivery, and wakes the alert task when none is on its way. */
static bool IRAM_ATTR twaiRaise(modTwai twai, uint32_t alerts)
{
	BaseType_t woken = pdFALSE;
	uint8_t wake;

	portENTER_CRITICAL_ISR(&twai->lock);
	twai->alerts |= alerts;
	wake = !twai->posted;
	portEXIT_CRITICAL_ISR(&twai->lock);
	if (wake)
		vTaskNotifyGiveFromISR(twai->task, &woken);
	return pdTRUE == woken;
}

/** Frees the count oldest transmit slots (lock held). */
static void IRAM_ATTR twaiRelease(modTwai twai, uint16_t count)
{
	uint32_t tail = (uint32_t)twai->txTail + count;
	if (tail >= twai->txSlots)
		tail -= twai->txSlots;
	twai->txTail = (uint16_t)tail;
	twai->txCount -= count;
}

static bool IRAM_ATTR twaiOnTransmit(twai_node_handle_t node, const twai_tx_done_event_data_t *edata, void *context)
{
	modTwai twai = context;
	uintptr_t at = (uintptr_t)edata->done_tx_frame, first = (uintptr_t)&twai->tx[0].frame;
	uint32_t alerts = edata->is_tx_success ? ALERT_TX_SUCCESS : ALERT_TX_FAILED;
	uint32_t slot = NO_SLOT;

	(void)node;
	if (at >= first) {
		slot = (uint32_t)((at - first) / sizeof(modTwaiTxRecord));
		if ((slot >= twai->txSlots) || (&twai->tx[slot].frame != edata->done_tx_frame))
			slot = NO_SLOT;
	}
	portENTER_CRITICAL_ISR(&twai->lock);
	if (NO_SLOT != slot) {
		// Frames leave in the order they were queued: older slots still counted were dropped
		// (the frame on the wire when a classic controller goes bus-off), so they go too.
		uint32_t offset = (slot >= twai->txTail) ? (slot - twai->txTail) : (slot + twai->txSlots - twai->txTail);
		if (offset < twai->txCount)
			twaiRelease(twai, (uint16_t)(offset + 1));
		if (slot == twai->txLost)
			twai->txLost = NO_SLOT;
	}
	if (!edata->is_tx_success)
		twai->txFailed += 1;
	if (!twai->txCount)
		alerts |= ALERT_TX_IDLE;
	portEXIT_CRITICAL_ISR(&twai->lock);
	return twaiRaise(twai, alerts);
}

/** Takes the frame, packed as a struct can_frame, into the receive queue. */
static bool IRAM_ATTR twaiOnReceive(twai_node_handle_t node, const twai_rx_done_event_data_t *edata, void *context)
{
	modTwai twai = context;
	uint8_t bytes[CAN_MTU] = {0};
	twai_frame_t frame = {.buffer = bytes + 8, .buffer_len = CAN_MAX_DLEN};
	BaseType_t woken = pdFALSE;
	uint32_t id, alerts;
	uint8_t stopped;

	(void)edata;
	if (ESP_OK != twai_node_receive_from_isr(node, &frame))
		return false;
	portENTER_CRITICAL_ISR(&twai->lock);
	stopped = twai->stopped;
	portEXIT_CRITICAL_ISR(&twai->lock);
	// A stopped controller takes nothing; an FD frame (a TWAI-FD controller's) is not a can_frame.
	if (stopped || frame.header.fdf)
		return false;

	id = frame.header.id & (frame.header.ide ? CAN_EFF_MASK : CAN_SFF_MASK);
	if (frame.header.ide)
		id |= CAN_EFF_FLAG;
	if (frame.header.rtr)
		id |= CAN_RTR_FLAG;
	bytes[0] = id & 0xFF;
	bytes[1] = (id >> 8) & 0xFF;
	bytes[2] = (id >> 16) & 0xFF;
	bytes[3] = (id >> 24) & 0xFF;
	bytes[4] = (frame.header.dlc > CAN_MAX_DLEN) ? CAN_MAX_DLEN : frame.header.dlc;	// DLC 9 to 15 carry 8 bytes; a remote frame's data stay 0

	if (pdTRUE == xQueueSendToBackFromISR(twai->rx, bytes, &woken))
		alerts = ALERT_RX_DATA;
	else {
		portENTER_CRITICAL_ISR(&twai->lock);
		twai->rxMissed += 1;
		portEXIT_CRITICAL_ISR(&twai->lock);
		alerts = ALERT_RX_QUEUE_FULL;
	}
	return twaiRaise(twai, alerts) || (pdTRUE == woken);
}

/**
 * Bus-off and recovery, as the legacy driver told them. The limits in between (warning,
 * passive) are told by the delivery from the counters (see twaiConfine): the node's states do
 * not follow them everywhere (a classic controller reports no change below the warning limit).
 */
static bool IRAM_ATTR twaiOnState(twai_node_handle_t node, const twai_state_change_event_data_t *edata, void *context)
{
	modTwai twai = context;
	uint32_t alerts = ALERT_STATE_CHANGED;

	(void)node;
	portENTER_CRITICAL_ISR(&twai->lock);
	if ((TWAI_ERROR_BUS_OFF == edata->new_sta) && (TWAI_ERROR_BUS_OFF != edata->old_sta)) {
		twai->busOff = 1;
		twai->recovering = 0;
		alerts |= ALERT_BUS_OFF;
#if !SOC_TWAI_FD_SUPPORTED
		// A classic controller drops the frame on the wire without on_tx_done: the oldest.
		twai->txLost = twai->txCount ? twai->txTail : NO_SLOT;
#endif
	}
	else if ((TWAI_ERROR_BUS_OFF == edata->old_sta) && (TWAI_ERROR_BUS_OFF != edata->new_sta)) {
		twai->busOff = 0;
		twai->recovering = 0;
		twai->stopped = 1;
		alerts |= ALERT_BUS_RECOVERED;
		if ((NO_SLOT != twai->txLost) && twai->txCount && (twai->txLost == twai->txTail)) {
			twaiRelease(twai, 1);
			twai->txFailed += 1;
			alerts |= ALERT_TX_FAILED | (twai->txCount ? 0 : ALERT_TX_IDLE);
		}
		twai->txLost = NO_SLOT;
	}
	portEXIT_CRITICAL_ISR(&twai->lock);
	return twaiRaise(twai, alerts);
}

static bool IRAM_ATTR twaiOnError(twai_node_handle_t node, const twai_error_event_data_t *edata, void *context)
{
	modTwai twai = context;
	uint32_t alerts;

	(void)node;
	portENTER_CRITICAL_ISR(&twai->lock);
	if (edata->err_flags.arb_lost) {
		twai->arbLost += 1;
		alerts = ALERT_ARB_LOST;
	}
	else {
		twai->busErrors += 1;
		alerts = ALERT_BUS_ERROR;
	}
	portEXIT_CRITICAL_ISR(&twai->lock);
	return twaiRaise(twai, alerts);
}

/* ------------------------------- to the XS machine ---------------------------------------- */

/** Posts the alerts to the machine, one delivery on its way at a time. */
static void twaiAlertTask(void *refcon)
{
	modTwai twai = refcon;
	TickType_t wait = portMAX_DELAY;

	while (1) {
		uint8_t post;

		ulTaskNotifyTake(pdTRUE, wait);
		if (!twai->running)
			break;
		portENTER_CRITICAL(&twai->lock);
		post = twai->alerts && !twai->posted;
		if (post)
			twai->posted = 1;
		portEXIT_CRITICAL(&twai->lock);
		wait = portMAX_DELAY;
		if (post && modMessagePostToMachine(twai->the, NULL, 0, twaiDeliver, twai)) {
			portENTER_CRITICAL(&twai->lock);	// the machine's queue is full: try again in a while
			twai->posted = 0;
			portEXIT_CRITICAL(&twai->lock);
			wait = pdMS_TO_TICKS(ALERT_WAIT_MS);
		}
	}
	twai->taskEnded = 1;
	vTaskDelete(NULL);
}

/** The legacy driver's warning and passive alerts, from the counters, as they cross the limits. */
static uint32_t twaiConfine(modTwai twai, uint32_t alerts)
{
	twai_node_status_t status;
	uint8_t level;

	if (alerts & ALERT_BUS_RECOVERED)
		twai->level = 0;		// recovery clears the counters
	if ((ESP_OK != twai_node_get_info(twai->node, &status, NULL)) || (TWAI_ERROR_BUS_OFF == status.state))
		return alerts;
	if ((status.tx_error_count >= ERROR_PASSIVE) || (status.rx_error_count >= ERROR_PASSIVE))
		level = 2;
	else if ((status.tx_error_count >= ERROR_WARNING) || (status.rx_error_count >= ERROR_WARNING))
		level = 1;
	else
		level = 0;
	if (level > twai->level)
		alerts |= ((twai->level < 1) ? ALERT_ABOVE_ERR_WARN : 0) | ((2 == level) ? ALERT_ERR_PASS : 0);
	else if (level < twai->level)
		alerts |= ((2 == twai->level) ? ALERT_ERR_ACTIVE : 0) | ((0 == level) ? ALERT_BELOW_ERR_WARN : 0);
	twai->level = level;
	return alerts;
}

static void twaiDeliver(void *the, void *refcon, uint8_t *message, uint16_t messageLength)
{
	modTwai twai = refcon;
	uint32_t alerts;

	(void)message;
	(void)messageLength;
	portENTER_CRITICAL(&twai->lock);
	alerts = twai->alerts;
	twai->alerts = 0;
	twai->posted = 0;
	portEXIT_CRITICAL(&twai->lock);
	if (twai->closed) {
		heap_caps_free(twai);
		return;
	}
	alerts = twaiConfine(twai, alerts) & ~ALERT_STATE_CHANGED;
	if (!alerts)
		return;
	xsBeginHost(the);
		xsCall1(twai->obj, xsID_onAlert, xsInteger(alerts));
	xsEndHost(the);
}

/** Stops and deletes the node (no callback runs after), then ends the alert task. */
static void twaiTeardown(modTwai twai)
{
	if (twai->node) {
		twai_node_status_t status;

		// A bus-off node counts as disabled already: it is deleted as it is.
		if ((ESP_OK == twai_node_get_info(twai->node, &status, NULL)) && (TWAI_ERROR_BUS_OFF != status.state))
			twai_node_disable(twai->node);
		if (ESP_OK != twai_node_delete(twai->node)) {	// recovery ended in between: it runs again
			twai_node_disable(twai->node);
			twai_node_delete(twai->node);
		}
		twai->node = NULL;
	}
	if (twai->task) {
		twai->running = 0;
		xTaskNotifyGive(twai->task);
		while (!twai->taskEnded)
			vTaskDelay(1);
		twai->task = NULL;
	}
	if (twai->rx) {
		vQueueDeleteWithCaps(twai->rx);
		twai->rx = NULL;
	}
	if (gTwai == twai)
		gTwai = NULL;
}
