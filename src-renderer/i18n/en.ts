import type { MessageKey } from './ja';

export const en: Record<MessageKey, string> = {
  'app.title': 'Tsuzuki',
  'app.subtitle': 'Continue Japanese prose with a language model on your own machine',
  'app.language': 'Language',
  'about.heading': 'About',
  'about.version': 'Version',
  'about.platform': 'Platform',
  'about.runtime': 'Node.js',
  'about.electron': 'Electron',
  'about.browser': 'Browser (tsuzuki serve)',
  'about.onnxruntime': 'ONNX Runtime',
  'about.providers': 'Available execution providers',
  'about.providersError': 'ONNX Runtime could not be loaded',
  'status.loading': 'Loading…',
  'error.generic': 'Something went wrong',
  'error.disconnected': 'Lost the connection to Tsuzuki. Restart the app (or tsuzuki serve).',
};
