/**
 * `POST /v1/import/k8s {objects, subnet?, source?, dryRun?}` → `{revision,
 * documents, warnings, diff, tests}`: Kubernetes Namespaces, Pods and
 * NetworkPolicies become vnp records and policies (src/k8s, docs/kubernetes.md),
 * declaratively per source, as one all-or-nothing batch like `apply`.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Change } from '../../engine/index.js';
import {
  checkSource,
  DEFAULT_SOURCE,
  DEFAULT_SUBNET,
  planImport,
  readObjects,
  translate,
  type Translation,
} from '../../k8s/index.js';
import { VnpError } from '../../model/errors.js';
import type { Document, Subnet } from '../../model/types.js';
import { stripMeta } from '../../model/strip-meta.js';
import { actorOf } from '../auth.js';
import { ImportK8sBody } from '../schemas.js';
import { writeBatch } from './apply.js';
import type { ManagerPluginOptions } from './plugin-options.js';

/**
 * The Kubernetes import plugin.
 *
 * @example
 *   await app.register(importK8sRoutes, { manager });
 */
export const importK8sRoutes: FastifyPluginAsync<ManagerPluginOptions> = async (
  app,
  { manager },
) => {
  app.post(
    '/v1/import/k8s',
    {
      config: { access: 'admin', write: true },
      schema: {
        tags: ['apply'],
        summary: 'Import Kubernetes Namespaces, Pods and NetworkPolicies, all or nothing',
        body: ImportK8sBody,
      },
    },
    async (request) => {
      const body = request.body as {
        objects: unknown[];
        subnet?: string;
        source?: string;
        dryRun?: boolean;
      };
      const source = body.source ?? DEFAULT_SOURCE;
      const subnetName = body.subnet ?? DEFAULT_SUBNET;
      checkSource(source);
      // Reading the objects needs no model: malformed input fails before the lock.
      const objects = readObjects(body.objects);
      let translation: Translation | undefined;
      const result = await writeBatch(manager, {
        actor: actorOf(request.principal),
        action: `import k8s (source ${source}): ${objects.pods.length} pod(s), ${objects.policies.length} NetworkPolicy(ies)`,
        changes: (engine) => {
          const subnet = engine.get('Subnet', subnetName) as
            (Subnet & { kind: 'Subnet' }) | undefined;
          if (subnet === undefined) {
            throw new VnpError(
              'VNP_ERR_REFERENCE',
              `subnet: no Subnet named "${subnetName}" (create it, e.g. kind: Subnet, name: ${subnetName}, cidr: <the pod CIDR>, or pass subnet)`,
              { field: 'subnet' },
            );
          }
          translation = translate(objects, {
            source,
            subnet: { name: subnet.name, cidr: subnet.cidr },
          });
          const existing = [...engine.list('Interface'), ...engine.list('Policy')].map(
            (d) => stripMeta(d) as Document,
          );
          const plan = planImport(existing, translation.documents, source);
          return [
            ...plan.puts.map((doc): Change => ({ op: 'put', doc })),
            ...plan.deletes.map((d): Change => ({ op: 'delete', ...d })),
          ];
        },
        tests: objects.tests,
        dryRun: body.dryRun === true,
      });
      return {
        ...result,
        documents: translation?.documents ?? [],
        warnings: translation?.warnings ?? [],
      };
    },
  );
};
