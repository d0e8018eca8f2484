/**
 * What every API-area plugin (src/server/routes/*) is registered with: the manager it
 * serves. One definition, so no route module is a helper library for another.
 */
import type { Manager } from '../manager.js';

export interface ManagerPluginOptions {
  manager: Manager;
}
