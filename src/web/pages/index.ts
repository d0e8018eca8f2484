/** The pages and the fragment route that names each (`#/records`). */
import type { ComponentType } from 'preact';
import { CheckPage } from './check.js';
import { EventsPage } from './events.js';
import { FlowsPage } from './flows.js';
import { HistoryPage } from './history.js';
import { lazyPage } from './lazy-page.js';
import { OverviewPage } from './overview.js';
import { PoliciesPage } from './policies.js';
import { RecordsPage } from './records.js';

export interface PageDef {
  id: string;
  title: string;
  component: ComponentType;
}

/** The map (Cytoscape.js) is its own chunk: loaded on the first visit or ahead of it. */
export const LazyMapPage = lazyPage('map', () => import('./map.js').then((m) => m.MapPage));

export const PAGES: PageDef[] = [
  { id: 'overview', title: 'Overview', component: OverviewPage },
  { id: 'map', title: 'Map', component: LazyMapPage },
  { id: 'records', title: 'Records', component: RecordsPage },
  { id: 'policies', title: 'Policies', component: PoliciesPage },
  { id: 'flows', title: 'Flows', component: FlowsPage },
  { id: 'check', title: 'Check', component: CheckPage },
  { id: 'history', title: 'History', component: HistoryPage },
  { id: 'events', title: 'Events', component: EventsPage },
];

/**
 * The page a fragment names (the overview for anything else).
 *
 * @example pageOf('#/records').id // 'records'
 */
export function pageOf(hash: string): PageDef {
  const id = /^#\/([a-z-]+)/.exec(hash)?.[1];
  return PAGES.find((p) => p.id === id) ?? PAGES[0]!;
}
