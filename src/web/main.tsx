/** Entry point of the web UI bundle (docs/web.md). */
import { render } from 'preact';
import { App } from './app.js';

render(<App />, document.getElementById('app')!);
