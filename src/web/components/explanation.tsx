/** A `check` answer in full: the verdict, its reason, and each side's deciding rule. */
import type { CheckResult, SideResult } from '../../client/api-types.js';

function Side({ title, side }: { title: string; side: SideResult }) {
  return (
    <div class="side">
      <h4>
        {title}: <span class={`verdict ${side.verdict}`}>{side.verdict}</span>
      </h4>
      {!side.evaluated && <p class="muted">not evaluated (an address outside every record)</p>}
      {side.rule && (
        <p>
          rule <code>{side.rule.policy}</code> {side.rule.rule} ({side.rule.action}, priority{' '}
          {side.rule.priority}
          {side.rule.mode === 'audit' ? ', audit' : ''})
        </p>
      )}
      {side.default && (
        <p>
          default {side.default.verdict}: {side.default.reason}
        </p>
      )}
      {side.overridden.length > 0 && (
        <p>
          overridden:{' '}
          {side.overridden
            .map((r) => `${r.policy} ${r.rule} (${r.action}, ${r.priority})`)
            .join('; ')}
        </p>
      )}
      {side.audit && (
        <p>
          audit rules would {side.audit.wouldBe}:{' '}
          {side.audit.rules.map((r) => `${r.policy} ${r.rule}`).join(', ')}
        </p>
      )}
    </div>
  );
}

export function Explanation({ result }: { result: CheckResult }) {
  return (
    <div class="explanation" data-verdict={result.verdict}>
      <p>
        <span class={`verdict ${result.verdict}`}>{result.verdict}</span> — {result.reason}
      </p>
      <p class="muted">
        {result.src.record ?? result.src.address} (identity {result.src.identity}
        {result.src.partitions.length ? `, ${result.src.partitions.join(', ')}` : ''}) →{' '}
        {result.dst.record ?? result.dst.address} (identity {result.dst.identity}
        {result.dst.partitions.length ? `, ${result.dst.partitions.join(', ')}` : ''})
      </p>
      <div class="columns">
        <Side title="egress" side={result.egress} />
        <Side title="ingress" side={result.ingress} />
      </div>
      {result.route && (
        <p>
          route: policy <code>{result.route.policy}</code> via {result.route.via}
          {result.route.active
            ? ''
            : ` (inactive${result.route.reason ? `: ${result.route.reason}` : ''})`}
        </p>
      )}
    </div>
  );
}
