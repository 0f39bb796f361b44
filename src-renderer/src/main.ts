import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { createTransport } from './lib/transport';

const target = document.getElementById('app');
if (!target) throw new Error('#app element missing from index.html');
export default mount(App, { target, props: { transport: createTransport() } });
