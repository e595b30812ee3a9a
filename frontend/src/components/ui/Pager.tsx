interface Props {
  page: number;
  pages: number;
  total: number;
  onPage: (page: number) => void;
  label?: string;
}

/** Previous / next for the contract's paginated lists. */
export function Pager({ page, pages, total, onPage, label = "Pagination" }: Props) {
  if (pages <= 1) return <p className="muted small">{total} total</p>;
  return (
    <nav className="pager" aria-label={label}>
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)} aria-label="Previous page">
        ‹ Prev
      </button>
      <span>
        Page {page} of {pages} · {total} total
      </span>
      <button type="button" disabled={page >= pages} onClick={() => onPage(page + 1)} aria-label="Next page">
        Next ›
      </button>
    </nav>
  );
}
