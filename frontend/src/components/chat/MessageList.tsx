import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";

/** Within this many pixels of the bottom counts as "following" the conversation. */
const STICK_THRESHOLD_PX = 48;

/**
 * The scrolling message list. It follows new content while the user is at the bottom and stops
 * following once they scroll up, offering a button to jump back.
 */
export function MessageList({ children, contentKey }: { children: ReactNode; contentKey: unknown }) {
  const ref = useRef<HTMLDivElement>(null);
  const [following, setFollowing] = useState(true);

  useLayoutEffect(() => {
    const element = ref.current;
    if (element && following) element.scrollTop = element.scrollHeight;
  }, [contentKey, following]);

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const onScroll = () => {
      const distance = element.scrollHeight - element.scrollTop - element.clientHeight;
      setFollowing(distance <= STICK_THRESHOLD_PX);
    };
    element.addEventListener("scroll", onScroll, { passive: true });
    return () => element.removeEventListener("scroll", onScroll);
  }, []);

  return (
    <div className="message-list-wrap">
      <div ref={ref} className="message-list" data-testid="message-list" role="log" aria-live="polite" aria-label="Messages">
        {children}
      </div>
      {!following ? (
        <button type="button" className="jump-latest" onClick={() => setFollowing(true)} aria-label="Jump to latest">
          ↓ Latest
        </button>
      ) : null}
    </div>
  );
}
