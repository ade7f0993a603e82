/** Japanese is the source language: every key starts here, English must provide the same keys. */
export const ja = {
  'app.title': '続き',
  'app.subtitle': '日本語の文章を、手元の言語モデルで書き継ぐ',
  'app.language': '表示言語',
  'about.heading': 'このアプリについて',
  'about.version': 'バージョン',
  'about.platform': 'プラットフォーム',
  'about.runtime': 'Node.js',
  'about.electron': 'Electron',
  'about.browser': 'ブラウザ(tsuzuki serve)',
  'about.onnxruntime': 'ONNX Runtime',
  'about.providers': '利用できる実行プロバイダ',
  'about.providersError': 'ONNX Runtime を読み込めませんでした',
  'status.loading': '読み込み中…',
  'error.generic': 'エラーが発生しました',
  'error.disconnected': 'Tsuzuki との接続が切れました。アプリ(または tsuzuki serve)を起動し直してください。',
} as const;

export type MessageKey = keyof typeof ja;
