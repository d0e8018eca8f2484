/** A failed call as the server explained it: code, message and the field it names. */
import type { ShownError } from '../api.js';

export function ErrorBox({ error }: { error: ShownError | undefined }) {
  if (!error) return null;
  return (
    <div class="error" role="alert">
      <strong>{error.code}</strong>: {error.message}
      {error.field !== undefined && (
        <div>
          field: <code>{error.field}</code>
        </div>
      )}
    </div>
  );
}
