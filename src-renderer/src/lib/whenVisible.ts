// A Svelte action for panels that load their data only once scrolled into (or near) view:
// `<section use:whenVisible={() => (inView = true)}>`. Without IntersectionObserver (jsdom in the
// component tests) the callback runs at once.
import type { Action } from 'svelte/action';

export interface WhenVisible {
  /** Called once, the first time the element intersects the viewport (widened by `rootMargin`). */
  onVisible: () => void;
  rootMargin?: string;
}

export const whenVisible: Action<HTMLElement, WhenVisible | (() => void)> = (node, param) => {
  const { onVisible, rootMargin } = typeof param === 'function' ? { onVisible: param, rootMargin: undefined } : param;
  if (typeof IntersectionObserver === 'undefined') {
    onVisible();
    return {};
  }
  const observer = new IntersectionObserver(
    (entries) => {
      if (entries.some((e) => e.isIntersecting)) {
        observer.disconnect();
        onVisible();
      }
    },
    rootMargin ? { rootMargin } : undefined,
  );
  observer.observe(node);
  return { destroy: () => observer.disconnect() };
};
