/**
 * Kubernetes import (docs/kubernetes.md): read Namespace, Pod and NetworkPolicy
 * objects, translate them into vnp documents with upstream's semantics, and plan
 * the declarative change per source. Pure: model and selector only.
 */
export { readObjects, flattenObjects, type K8sObjects } from './objects.js';
export { translate, type Translation, type TranslateOptions } from './translate.js';
export { planImport, ownedBy, type ImportPlan } from './ownership.js';
export {
  checkSource,
  DEFAULT_SOURCE,
  DEFAULT_SUBNET,
  ISOLATION_PRIORITY,
  ALLOW_PRIORITY,
  SOURCE_TAG,
} from './naming.js';
