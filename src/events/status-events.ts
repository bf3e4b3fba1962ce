import type { StatusEvent } from './status-event';

/**
 * The one door through which the API and the workers announce a state change. Best
 * effort: it never throws, so a Redis hiccup costs a live update, never a document.
 */
export interface StatusEvents {
  publish(event: Omit<StatusEvent, 'at'>): Promise<void>;
}

/** Injection token of the process's `StatusEvents`. */
export const STATUS_EVENTS = Symbol('STATUS_EVENTS');
