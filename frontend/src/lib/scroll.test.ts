import { describe, expect, it } from "vitest";
import { distanceFromBottom, userScrolledAway } from "./scroll";

describe("userScrolledAway", () => {
  it("notices a scroll up that happened between two auto-scrolls", () => {
    expect(userScrolledAway({ scrollTop: 0, scrollHeight: 2000, clientHeight: 500 }, 1500)).toBe(true);
  });

  it("ignores small movements and the first render", () => {
    expect(userScrolledAway({ scrollTop: 1480, scrollHeight: 2000, clientHeight: 500 }, 1500)).toBe(false);
    expect(userScrolledAway({ scrollTop: 0, scrollHeight: 2000, clientHeight: 500 }, null)).toBe(false);
  });

  it("does not mistake a list that got shorter for the user scrolling", () => {
    // Clamped to the new bottom: scrollTop dropped, but the view is still at the end.
    expect(userScrolledAway({ scrollTop: 700, scrollHeight: 1200, clientHeight: 500 }, 1500)).toBe(false);
  });
});

describe("distanceFromBottom", () => {
  it("is zero at the bottom", () => {
    expect(distanceFromBottom({ scrollTop: 1500, scrollHeight: 2000, clientHeight: 500 })).toBe(0);
  });
});
