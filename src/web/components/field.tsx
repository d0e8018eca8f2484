/** A labelled input bound to a string state; the label names it for screen readers. */
export function Field(props: {
  id: string;
  label: string;
  value: string;
  onValue: (v: string) => void;
  placeholder?: string;
  invalid?: boolean;
}) {
  return (
    <span class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        value={props.value}
        placeholder={props.placeholder}
        aria-invalid={props.invalid ? 'true' : undefined}
        onInput={(e) => props.onValue((e.target as HTMLInputElement).value)}
      />
    </span>
  );
}

/** A labelled select over fixed options. */
export function Choice(props: {
  id: string;
  label: string;
  value: string;
  options: readonly string[];
  onValue: (v: string) => void;
}) {
  return (
    <span class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        onChange={(e) => props.onValue((e.target as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option key={o} value={o}>
            {o === '' ? 'any' : o}
          </option>
        ))}
      </select>
    </span>
  );
}
