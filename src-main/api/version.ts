// The app version recorded with every run and export; kept equal to package.json's (a test checks).
export const APP_VERSION = '0.1.0';
