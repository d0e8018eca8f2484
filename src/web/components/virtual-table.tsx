/**
 * A table that renders only the rows in view (fixed row height), so 10,000 records
 * scroll as fast as 10. The scroller is focusable: arrow keys and Page Up/Down scroll.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export const ROW_HEIGHT = 32;
const VIEW_ROWS = 16;
const OVERSCAN = 6;

export interface Column<T> {
  key: string;
  title: string;
  cell: (row: T) => ComponentChildren;
  sortable?: boolean;
}

export function VirtualTable<T>(props: {
  label: string;
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  sort?: { key: string; dir: 'asc' | 'desc' };
  onSort?: (key: string) => void;
  selected?: string;
}) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(props.rows.length, first + VIEW_ROWS + 2 * OVERSCAN);
  const shown = props.rows.slice(first, last);
  const n = props.columns.length;
  return (
    <div
      class="scroller"
      tabIndex={0}
      role="region"
      aria-label={`${props.label}: rows ${props.rows.length === 0 ? 0 : first + 1}–${last} of ${props.rows.length}`}
      style={{ height: `${ROW_HEIGHT * (VIEW_ROWS + 1) + 2}px` }}
      onScroll={(e) => setTop((e.target as HTMLElement).scrollTop)}
    >
      <table class="virtual">
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th
                key={c.key}
                scope="col"
                aria-sort={
                  props.sort?.key === c.key
                    ? props.sort.dir === 'asc'
                      ? 'ascending'
                      : 'descending'
                    : undefined
                }
              >
                {c.sortable && props.onSort ? (
                  <button type="button" class="link" onClick={() => props.onSort!(c.key)}>
                    {c.title}
                    {props.sort?.key === c.key ? (props.sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                  </button>
                ) : (
                  c.title
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && (
            <tr aria-hidden="true">
              <td colSpan={n} style={{ height: `${first * ROW_HEIGHT}px` }} />
            </tr>
          )}
          {shown.map((row) => {
            const key = props.rowKey(row);
            return (
              <tr key={key} class={key === props.selected ? 'selected' : ''} data-row={key}>
                {props.columns.map((c) => (
                  <td key={c.key}>{c.cell(row)}</td>
                ))}
              </tr>
            );
          })}
          {last < props.rows.length && (
            <tr aria-hidden="true">
              <td colSpan={n} style={{ height: `${(props.rows.length - last) * ROW_HEIGHT}px` }} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
