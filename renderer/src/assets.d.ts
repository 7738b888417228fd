// Vite bundles imported stylesheets into the CSS file; they export nothing.
declare module '*.css';
