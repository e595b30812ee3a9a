import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { STICK_THRESHOLD_PX, distanceFromBottom, userScrolledAway } from "../../lib/scroll";

/**
 * The scrolling message list. It follows new content while the user is at the bottom and stops
 * following once they scroll up, offering a button to jump back.
 */
export function MessageList({ children, contentKey }: { children: ReactNode; contentKey: unknown }) {
  const ref = useRef<HTMLDivElement>(null);
  const lastAutoTop = useRef<number | null>(null);
  const [following, setFollowing] = useState(true);

  useLayoutEffect(() => {
    const element = ref.current;
    if (!element || !following) return;
    if (userScrolledAway(element, lastAutoTop.current)) {
      setFollowing(false);
      return;
    }
    element.scrollTop = element.scrollHeight;
    lastAutoTop.current = element.scrollTop;
  }, [contentKey, following]);

  const followingRef = useRef(following);
  useLayoutEffect(() => {
    followingRef.current = following;
  }, [following]);

  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    let size = { width: element.clientWidth, height: element.clientHeight };
    const stick = () => {
      element.scrollTop = element.scrollHeight;
      lastAutoTop.current = element.scrollTop;
    };
    const onScroll = () => {
      // A rotated phone, an opened keyboard or a resized window moves the view, not the user.
      const resized = element.clientWidth !== size.width || element.clientHeight !== size.height;
      size = { width: element.clientWidth, height: element.clientHeight };
      if (resized && followingRef.current) {
        stick();
        return;
      }
      const atBottom = distanceFromBottom(element) <= STICK_THRESHOLD_PX;
      if (atBottom) lastAutoTop.current = element.scrollTop;
      setFollowing(atBottom);
    };
    const observer = new ResizeObserver(() => {
      size = { width: element.clientWidth, height: element.clientHeight };
      if (followingRef.current) stick();
    });
    observer.observe(element);
    element.addEventListener("scroll", onScroll, { passive: true });
    return () => {
      observer.disconnect();
      element.removeEventListener("scroll", onScroll);
    };
  }, []);

  return (
    <div className="message-list-wrap">
      <div ref={ref} className="message-list" data-testid="message-list" role="log" aria-live="polite" aria-label="Messages">
        {children}
      </div>
      {!following ? (
        <button
          type="button"
          className="jump-latest"
          aria-label="Jump to latest"
          onClick={() => {
            lastAutoTop.current = null; // the user asked to follow again, wherever they are now
            setFollowing(true);
          }}
        >
          ↓ Latest
        </button>
      ) : null}
    </div>
  );
}
