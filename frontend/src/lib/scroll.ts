/** Auto-scroll decisions for the message list, kept pure so they can be tested without a DOM. */

/** Within this many pixels of the bottom counts as "following" the conversation. */
export const STICK_THRESHOLD_PX = 48;

export interface ScrollPosition {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

export function distanceFromBottom(position: ScrollPosition): number {
  return position.scrollHeight - position.scrollTop - position.clientHeight;
}

/**
 * Whether the user has moved up since we last scrolled to the bottom at `lastAutoTop`. Checked
 * before each auto-scroll, because new tokens can arrive before the browser's scroll event does;
 * a list that merely got shorter (clamped to its new bottom) is not the user scrolling away.
 */
export function userScrolledAway(position: ScrollPosition, lastAutoTop: number | null): boolean {
  if (lastAutoTop === null) return false;
  return position.scrollTop < lastAutoTop - STICK_THRESHOLD_PX && distanceFromBottom(position) > STICK_THRESHOLD_PX;
}
