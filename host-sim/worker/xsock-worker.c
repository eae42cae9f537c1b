/*
 * xsock's XS worker: @agoric/xsnap's xsnap-worker, linked with this file (ld --wrap), so that
 * each machine gets the board's heap instead of xsnap's 32 MiB chunks and 256 K slots.
 *
 * With XSOCK_XS_STACK set, the machine starts small and grows while the simulator's bridge and
 * the app's preloaded modules load (the board keeps those in flash). Then the simulator calls
 * xsockFixHeap(slots, chunkBytes): the heap gets that much room beyond what is live, and stops
 * growing, as XS's heap on the ESP32 is fixed (mc's creation: incremental 0). An allocation past
 * it collects, then aborts with XS's own "memory full". The stack becomes the board's then too:
 * the preload needs more (on the board, mcconfig runs it at build time).
 *
 * A machine written to a snapshot before xsockFixHeap (xsnap's `w` command) starts other boards
 * of the same firmware (`-r`): they skip parsing it. Its creation is the loaded machine's, and
 * xsockFixHeap, in the snapshot's callback table after xsnap's own, fixes each board's heap.
 */
#include "xsAll.h"
#include "xs.h"
#include "xsSnapshot.h"
#include <stdlib.h>
#include <malloc.h>

extern txMachine* __real_fxCreateMachine(txCreation* creation, txString name, void* context, txID profileID);
extern void __real_fxDeleteMachine(txMachine* the);
extern void* fxAllocateChunks(txMachine* the, txSize size);
extern void fxGrowSlots(txMachine* the, txSize count);
extern txMachine* __real_fxReadSnapshot(txSnapshot* snapshot, txString name, void* context);
extern int __real_fxWriteSnapshot(txMachine* the, txSnapshot* snapshot);

/* The board's stack, in slots; the machine's own stack, as allocated. */
static txSize gxBoardStack = 0;
static txSlot* gxStackBottom = C_NULL;
/* Holds what the machine grew beyond the board's room while it loaded (it cannot shrink). */
static txSlot gxHeld;

static void xs_fixHeap(txMachine* the)
{
	txSize slots = xsToInteger(xsArg(0));
	txSize chunks = xsToInteger(xsArg(1));
	txSize want;
	fxCollect(the, XS_COMPACT_FLAG);
	want = the->currentHeapCount + slots;
	if (want > the->maximumHeapCount)
		fxGrowSlots(the, want - the->maximumHeapCount + 2); /* a new block spends a slot on its header; the surplus is held below */
	want = the->currentChunksSize + chunks;
	if (want > the->maximumChunksSize) {
		/* What fxGrowChunks does when the arena grows in place (xsnap's arena is one reservation). */
		txSize size = want - the->maximumChunksSize;
		txByte* buffer = fxAllocateChunks(the, size);
		if (buffer && buffer == the->firstBlock->limit) {
			the->firstBlock->limit += size;
			the->maximumChunksSize += size;
		}
	}
	the->minimumHeapCount = 0;
	the->minimumChunksSize = 0;
	/* The preload's peak may have grown the heap past live + room: hold the surplus. */
	gxHeld = xsNewObject();
	xsRemember(gxHeld);
	want = the->maximumChunksSize - the->currentChunksSize - chunks - 40; /* 40: the ArrayBuffer's own chunk header */
	if (want > 0)
		xsSet(gxHeld, xsID("chunks"), xsArrayBuffer(C_NULL, want));
	want = the->maximumHeapCount - the->currentHeapCount - slots;
	if (want > 0) {
		txSlot** last = &gxHeld.value.reference->next;
		while (*last)
			last = &(*last)->next;
		while (want-- > 0 && the->freeHeap) {
			txSlot* slot = the->freeHeap;
			the->freeHeap = slot->next;
			slot->next = C_NULL;
			slot->ID = XS_NO_ID;
			slot->flag = XS_NO_FLAG;
			slot->kind = XS_UNDEFINED_KIND;
			*last = slot;
			last = &slot->next;
			the->currentHeapCount++;
		}
	}
	/* The stack too: from here on, the board's, counted from its top. */
	if (gxBoardStack && gxBoardStack < the->stackTop - the->stackBottom) {
		gxStackBottom = the->stackBottom;
		the->stackBottom = the->stackTop - gxBoardStack;
	}
	{
		txInteger figures[4] = { the->maximumHeapCount - the->currentHeapCount, the->maximumChunksSize - the->currentChunksSize, the->currentHeapCount, the->currentChunksSize };
		int i;
		xsResult = xsNewArray(4);
		for (i = 0; i < 4; i++)
			xsSetIndex(xsResult, i, xsInteger(figures[i]));
	}
	xsDelete(xsGlobal, xsID("xsockFixHeap"));
	/* Give back what parsing the scripts used: the board never parses them. */
	malloc_trim(0);
}

/* xsnap's callbacks, then xsockFixHeap: a snapshot names a host function by its index here. */
#define XSOCK_CALLBACKS 64
static txCallback gxCallbacks[XSOCK_CALLBACKS];

/* Gives the snapshot xsnap's callbacks and xsockFixHeap, for one read or write. */
static void withFixHeap(txSnapshot* snapshot, txCallback** callbacks, int* length)
{
	int i;
	*callbacks = snapshot->callbacks;
	*length = snapshot->callbacksLength;
	if (*length >= XSOCK_CALLBACKS) {
		fprintf(stderr, "xsock-worker: %d snapshot callbacks, room for %d\n", *length, XSOCK_CALLBACKS - 1);
		exit(1);
	}
	for (i = 0; i < *length; i++)
		gxCallbacks[i] = (*callbacks)[i];
	gxCallbacks[i] = xs_fixHeap;
	snapshot->callbacks = gxCallbacks;
	snapshot->callbacksLength = i + 1;
}

txMachine* __wrap_fxReadSnapshot(txSnapshot* snapshot, txString name, void* context)
{
	const char* stack = getenv("XSOCK_XS_STACK");
	txCallback* callbacks;
	int length;
	txMachine* the;
	gxBoardStack = stack ? atoi(stack) : 0;
	withFixHeap(snapshot, &callbacks, &length);
	the = __real_fxReadSnapshot(snapshot, name, context);
	snapshot->callbacks = callbacks;
	snapshot->callbacksLength = length;
	return the;
}

int __wrap_fxWriteSnapshot(txMachine* the, txSnapshot* snapshot)
{
	txCallback* callbacks;
	int length;
	int result;
	withFixHeap(snapshot, &callbacks, &length);
	result = __real_fxWriteSnapshot(the, snapshot);
	snapshot->callbacks = callbacks;
	snapshot->callbacksLength = length;
	return result;
}

txMachine* __wrap_fxCreateMachine(txCreation* creation, txString name, void* context, txID profileID)
{
	const char* stack = getenv("XSOCK_XS_STACK");
	txMachine* the;
	if (!stack)
		return __real_fxCreateMachine(creation, name, context, profileID);
	/* Room for the bridge and the ESP-AT firmware's preload (22,700 slots, 350 KB of chunks) and
	   the board's heap, so that loading them does not collect at each step of growth. */
	creation->initialChunkSize = 512 * 1024;
	creation->incrementalChunkSize = 128 * 1024;
	creation->initialHeapCount = 32 * 1024;
	creation->incrementalHeapCount = 8 * 1024;
	gxBoardStack = atoi(stack);
	creation->initialKeyCount = 8192;
	creation->incrementalKeyCount = 1024;
	the = __real_fxCreateMachine(creation, name, context, profileID);
	xsBeginHost(the);
	xsSet(xsGlobal, xsID("xsockFixHeap"), xsNewHostFunction(xs_fixHeap, 2));
	xsEndHost(the);
	return the;
}

void __wrap_fxDeleteMachine(txMachine* the)
{
	if (gxStackBottom)
		the->stackBottom = gxStackBottom;
	__real_fxDeleteMachine(the);
}
