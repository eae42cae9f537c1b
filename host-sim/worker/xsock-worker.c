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
 *
 * Unless XSOCK_SHARE=0, xsockFixHeap instead shares the loaded machine, as the chip keeps the
 * preload in flash: before the next command, the machine becomes XS's clone of it (fxShareMachine,
 * fxCloneMachine) with the board's heap and stack, so collections no longer mark, sweep or compact
 * the preload, and the preloaded objects and closures the firmware changes get aliases in the
 * board's heap, as on the chip. xsockHeapFigures then reports the board's room. A machine holding
 * what XS changes in place (a Map that is not frozen, a pending promise: see shareable()) keeps
 * the in-place heap.
 */
#include "xsAll.h"
#include "xs.h"
#include "xsSnapshot.h"
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

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

/* XSOCK_SHARE: the board's room, for the clone made at the next command (gxShare set). */
static int gxShare = 0;
static txSize gxShareSlots = 0;
static txSize gxShareChunks = 0;

/* xsResult: the heap's room beyond what is live (slots, chunk bytes), then what is live. */
static void resultHeapFigures(txMachine* the)
{
	txInteger figures[4] = { the->maximumHeapCount - the->currentHeapCount, the->maximumChunksSize - the->currentChunksSize, the->currentHeapCount, the->currentChunksSize };
	int i;
	xsResult = xsNewArray(4);
	for (i = 0; i < 4; i++)
		xsSetIndex(xsResult, i, xsInteger(figures[i]));
}

static void xs_heapFigures(txMachine* the)
{
	fxCollect(the, XS_COMPACT_FLAG);
	resultHeapFigures(the);
}

/*
 * XS aliases (copies into the clone's heap on their first change) ordinary instances, arrays,
 * closures, dates and private fields; it changes other instances in place. A clone that links
 * its own slots from a shared slot loses them at its next collection (shared slots are marked
 * for good, so marking stops there), as xsock's experiment found for a Map's entries and for the
 * value of a pending promise resolved in the clone. So the machine is shared only without such
 * instances: Map, Set, WeakMap, WeakSet, WeakRef and FinalizationRegistry instances that are not
 * frozen (host-sim/xs/preload.ts freezes those the firmware's preload makes, as the chip's
 * linker makes them read-only), generators, and promises still pending. Not checked: an
 * ArrayBuffer made while preloading that is resized or transferred (its chunk would move into
 * the clone's heap behind a shared slot); its bytes are written in place, as before.
 */
static int shareable(txMachine* the)
{
	txSlot* heap = the->firstHeap;
	int unsafe = 0;
	while (heap) {
		txSlot* slot = heap + 1;
		txSlot* limit = heap->value.reference;
		while (slot < limit) {
			txSlot* internal;
			const char* why = C_NULL;
			if (slot->kind == XS_INSTANCE_KIND && (internal = slot->next) && (internal->flag & XS_INTERNAL_FLAG)) {
				switch (internal->kind) {
				case XS_MAP_KIND:
				case XS_SET_KIND:
				case XS_WEAK_MAP_KIND:
				case XS_WEAK_SET_KIND:
				case XS_WEAK_REF_KIND:
				case XS_FINALIZATION_REGISTRY_KIND:
					if (!(slot->flag & XS_DONT_PATCH_FLAG) && !(internal->flag & XS_DONT_SET_FLAG))
						why = "a keyed or weak collection that is not frozen";
					break;
				case XS_STACK_KIND: /* a generator's frames: resuming it writes them in place */
					why = "a generator";
					break;
				case XS_PROMISE_KIND:
					if (internal->value.integer == mxPendingStatus)
						why = "a pending promise";
					break;
				}
			}
			if (why) {
				unsafe++;
				if (getenv("XSOCK_SHARE_DEBUG"))
					fprintf(stderr, "xsock-worker: the preload stays in the heap: %s\n", why);
			}
			slot++;
		}
		heap = heap->next;
	}
	return unsafe == 0;
}

/*
 * Gives the heap the board's room beyond what is live, and no growth: as XS's heap on the ESP32
 * (mc's creation: incremental 0). A new block of slots spends one on its header; `spare` slots
 * more for a heap whose surplus is then held.
 */
static void fixRoom(txMachine* the, txSize slots, txSize chunks, txSize spare)
{
	txSize want;
	fxCollect(the, XS_COMPACT_FLAG);
	want = the->currentHeapCount + slots;
	if (want > the->maximumHeapCount)
		fxGrowSlots(the, want - the->maximumHeapCount + 1 + spare);
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
}

static void xs_fixHeap(txMachine* the)
{
	txSize slots = xsToInteger(xsArg(0));
	txSize chunks = xsToInteger(xsArg(1));
	txSize want;
	const char* share = getenv("XSOCK_SHARE");
	if ((!share || strcmp(share, "0")) && shareable(the)) {
		gxShare = 1;
		gxShareSlots = slots;
		gxShareChunks = chunks;
		xsDelete(xsGlobal, xsID("xsockFixHeap"));
		xsResult = xsNewArray(0);
		return;
	}
	fixRoom(the, slots, chunks, 1); /* the surplus is held below */
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
	resultHeapFigures(the);
	xsDelete(xsGlobal, xsID("xsockFixHeap"));
	/* Give back what parsing the scripts used: the board never parses them. */
	malloc_trim(0);
}

/* xsnap's callbacks, then xsockFixHeap and xsockHeapFigures: a snapshot names a host function by its index here. */
#define XSOCK_CALLBACKS 64
static txCallback gxCallbacks[XSOCK_CALLBACKS];

/* Gives the snapshot xsnap's callbacks, xsockFixHeap and xsockHeapFigures, for one read or write. */
static void withFixHeap(txSnapshot* snapshot, txCallback** callbacks, int* length)
{
	int i;
	*callbacks = snapshot->callbacks;
	*length = snapshot->callbacksLength;
	if (*length >= XSOCK_CALLBACKS - 1) {
		fprintf(stderr, "xsock-worker: %d snapshot callbacks, room for %d\n", *length, XSOCK_CALLBACKS - 2);
		exit(1);
	}
	for (i = 0; i < *length; i++)
		gxCallbacks[i] = (*callbacks)[i];
	gxCallbacks[i] = xs_fixHeap;
	gxCallbacks[i + 1] = xs_heapFigures;
	snapshot->callbacks = gxCallbacks;
	snapshot->callbacksLength = i + 2;
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
	xsSet(xsGlobal, xsID("xsockHeapFigures"), xsNewHostFunction(xs_heapFigures, 0));
	xsEndHost(the);
	return the;
}

void __wrap_fxDeleteMachine(txMachine* the)
{
	if (gxStackBottom)
		the->stackBottom = gxStackBottom;
	__real_fxDeleteMachine(the);
}

/*
 * XSOCK_SHARE: the preload as the chip's flash. Between commands (in the first fxBeginHost after
 * xsockFixHeap, when only main()'s metering and host jumps are set), the loaded machine is shared
 * (fxShareMachine: every slot marked for good, aliases for mutable instances and closures) and
 * cloned with the board's heap; the clone takes the loaded machine's place at its address, so
 * main()'s pointer stays valid, and the loaded machine moves to a struct of its own.
 */
extern txMachine* __real_fxBeginHost(txMachine* the);

/* After the root's last compaction, each of its chunk headers' temporary is the next chunk's
   address; a clone's fxSweep would follow it as a forwarding address for every string, code,
   array... it holds in the shared chunks (mxSweepChunk, xsMemory.c). NULL: "does not move". */
static void pinSharedChunks(txMachine* root)
{
	txBlock* block = root->firstBlock;
	while (block) {
		txByte* current = ((txByte*)block) + sizeof(txBlock);
		txByte* limit = block->current;
		while (current < limit) {
			txByte* next = current + ((txChunk*)current)->size;
			((txChunk*)current)->temporary = C_NULL;
			current = next;
		}
		block = block->nextBlock;
	}
}

static void shareAndClone(txMachine* the)
{
	txMachine* root;
	txMachine* clone;
	txCreation creation;
	txJump* jump;
	gxShare = 0;
	if (gxStackBottom) {
		the->stackBottom = gxStackBottom;
		gxStackBottom = C_NULL;
	}
	fxShareMachine(the);
	pinSharedChunks(the);
	root = c_malloc(sizeof(txMachine));
	if (!root) {
		fprintf(stderr, "xsock-worker: no memory to share the machine\n");
		exit(1);
	}
	c_memcpy(root, the, sizeof(txMachine));
	root->dtoa = fxNew_dtoa(root); /* XS's dtoa state is the machine's own address */
	c_memset(&creation, 0, sizeof(creation));
	creation.initialChunkSize = gxShareChunks;
	creation.incrementalChunkSize = 0;
	creation.initialHeapCount = gxShareSlots;
	creation.incrementalHeapCount = 0;
	creation.stackCount = gxBoardStack ? gxBoardStack : (txSize)(root->stackTop - root->stackBottom);
	/* Keys grow as the loaded machine's did (xsnap's worker too). */
	creation.initialKeyCount = 2048;
	creation.incrementalKeyCount = 1024;
	creation.nameModulo = root->nameModulo;
	creation.symbolModulo = root->symbolModulo;
	creation.parserBufferSize = root->parserBufferSize;
	creation.parserTableModulo = root->parserTableModulo;
	clone = fxCloneMachine(&creation, root, "xsnap", root->context);
	if (!clone) {
		fprintf(stderr, "xsock-worker: cloning the shared machine failed\n");
		exit(1);
	}
	/* What belongs to the process, not to the heap. */
	clone->firstJump = the->firstJump;
#ifdef mxMetering
	clone->meterCallback = the->meterCallback;
	clone->meterCount = the->meterCount;
	clone->meterIndex = the->meterIndex;
	clone->meterInterval = the->meterInterval;
#endif
	clone->promiseJobs = 0;
	clone->timerJobs = the->timerJobs;
	clone->abortStatus = 0;
	c_memcpy(the, clone, sizeof(txMachine));
	c_free(clone);
	the->dtoa = fxNew_dtoa(the);
	/* main()'s jumps (metering, this host) restore the clone's stack, not the root's. */
	for (jump = the->firstJump; jump; jump = jump->nextJump) {
		jump->stack = the->stack;
		jump->scope = the->scope;
		jump->frame = the->frame;
		jump->code = the->code;
	}
	fixRoom(the, gxShareSlots, gxShareChunks, 0);
	malloc_trim(0);
}

txMachine* __wrap_fxBeginHost(txMachine* the)
{
	/* Only at main()'s top: its metering jump and this host's. */
	if (gxShare && the->firstJump && the->firstJump->nextJump && !the->firstJump->nextJump->nextJump && !the->frame)
		shareAndClone(the);
	return __real_fxBeginHost(the);
}
