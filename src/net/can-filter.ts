// CAN_RAW filters, matched as Linux's af_can.c does: a filter {can_id, can_mask} passes a frame
// when (frame_id & mask) == (can_id & mask), or != with CAN_INV_FILTER; error frames pass by the
// error mask (CAN_RAW_ERR_FILTER) or by a filter whose mask has CAN_ERR_FLAG. A frame is
// delivered once however many filters pass it.
import { CAN_EFF_FLAG, CAN_ERR_FLAG, CAN_ERR_MASK, CAN_INV_FILTER, CAN_RTR_FLAG, CAN_SFF_MASK, type CanFrame } from "./can-frame";

export interface CanFilter {
  can_id: number;
  can_mask: number;
}

/** What a socket receives with no CAN_RAW_FILTER set: everything but error frames. */
export const DEFAULT_FILTERS: readonly CanFilter[] = [{ can_id: 0, can_mask: 0 }];

interface Prepared {
  id: number;
  mask: number;
  inverted: boolean;
  /** An error-frame filter: `mask` holds CAN_ERR_* classes. */
  errors: boolean;
}

/** A filter as af_can.c registers it (can_rcv_list_find): the id masked, SFF-only masks fixed. */
function prepare(filter: CanFilter): Prepared {
  let id = filter.can_id >>> 0;
  let mask = filter.can_mask >>> 0;
  const inverted = (id & CAN_INV_FILTER) !== 0;
  // A mask with CAN_ERR_FLAG makes a filter for error frames of the classes in the mask.
  if (mask & CAN_ERR_FLAG) return { id: 0, mask: (mask & CAN_ERR_MASK) >>> 0, inverted: false, errors: true };
  if (mask & CAN_EFF_FLAG && !(id & CAN_EFF_FLAG)) mask = (mask & (CAN_SFF_MASK | CAN_EFF_FLAG | CAN_RTR_FLAG)) >>> 0;
  id = (id & mask) >>> 0;
  return { id, mask, inverted, errors: false };
}

/** A socket's filter set, with CAN_RAW_JOIN_FILTERS (all must pass) and the error mask. */
export class FilterSet {
  #filters: Prepared[] = [];
  #source: CanFilter[] = [];
  /** CAN_RAW_ERR_FILTER: the error classes (CAN_ERR_*) the socket wants. */
  errMask = 0;
  /** CAN_RAW_JOIN_FILTERS: a frame must pass every filter, not one of them. */
  join = false;

  constructor(filters: readonly CanFilter[] = DEFAULT_FILTERS) {
    this.set(filters);
  }

  set(filters: readonly CanFilter[]): void {
    this.#source = filters.map((f) => ({ can_id: f.can_id >>> 0, can_mask: f.can_mask >>> 0 }));
    this.#filters = this.#source.map(prepare);
  }

  get filters(): CanFilter[] {
    return this.#source.map((f) => ({ ...f }));
  }

  passes(frame: CanFrame): boolean {
    const id = frame.can_id >>> 0;
    if (id & CAN_ERR_FLAG) return (id & this.errMask & CAN_ERR_MASK) !== 0 || this.#filters.some((f) => f.errors && (id & f.mask) !== 0);
    const data = this.#filters.filter((f) => !f.errors);
    if (!data.length) return false;
    const matches = (f: Prepared) => (((id & f.mask) >>> 0) === f.id) !== f.inverted;
    return this.join ? data.every(matches) : data.some(matches);
  }
}
