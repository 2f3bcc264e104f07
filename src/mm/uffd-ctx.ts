import { UFFD_FEATURE_SIGBUS, UFFD_FEATURE_THREAD_ID, UFFD_FEATURE_WP_ASYNC, UFFD_FEATURE_WP_UNPOPULATED } from './uapi.js';

/** A queued uffd message (struct uffd_msg). */
export interface UffdMsg {
  event: number;
  /** PAGEFAULT: UFFD_PAGEFAULT_FLAG_*; others 0. */
  flags: number;
  /** PAGEFAULT: faulting page; REMAP: from; REMOVE/UNMAP: start. */
  vpn: number;
  /** REMAP: to; REMOVE/UNMAP: end. */
  vpn2: number;
  /** REMAP: len, in pages; 0 for other events. */
  pages: number;
  tid: number;
  /** Trace time of the event (ns). */
  t: number;
}

/** struct userfaultfd_ctx (docs/kernel-rules.md §1.4). */
export class UffdCtx {
  apiDone = false;
  /** Effective features after UFFDIO_API. */
  features = 0;
  released = false;
  /** >0 while a non-cooperative event (fork, remap, remove) is in flight: WRITEPROTECT gets EAGAIN. */
  mmapChanging = 0;
  readonly queue: UffdMsg[] = [];

  constructor(
    readonly id: number,
    /** Owning process (the mm the context was created for). */
    readonly pid: number,
    readonly fd: number,
    readonly userModeOnly: boolean,
    readonly nonblock: boolean,
  ) {}

  get wpAsync(): boolean {
    return (this.features & UFFD_FEATURE_WP_ASYNC) !== 0;
  }

  /** WP_UNPOPULATED, implied by WP_ASYNC (userfaultfd_api ORs it in). */
  get wpUnpopulated(): boolean {
    return (this.features & UFFD_FEATURE_WP_UNPOPULATED) !== 0;
  }

  get sigbus(): boolean {
    return (this.features & UFFD_FEATURE_SIGBUS) !== 0;
  }

  get threadId(): boolean {
    return (this.features & UFFD_FEATURE_THREAD_ID) !== 0;
  }
}
