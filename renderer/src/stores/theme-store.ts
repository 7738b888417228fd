import { defineStore } from 'pinia';
import { ref, watchEffect } from 'vue';

export type ThemePreference = 'system' | 'light' | 'dark';

const STORAGE_KEY = 'hsm-workbench.theme';

function readPreference(): ThemePreference {
  const stored = window.localStorage.getItem(STORAGE_KEY);
  return stored === 'light' || stored === 'dark' ? stored : 'system';
}

/** 'system' follows prefers-color-scheme through CSS; an explicit choice pins html[data-theme]. */
export const useThemeStore = defineStore('theme', () => {
  const preference = ref<ThemePreference>(readPreference());

  watchEffect(() => {
    const root = document.documentElement;
    if (preference.value === 'system') {
      delete root.dataset['theme'];
      window.localStorage.removeItem(STORAGE_KEY);
    } else {
      root.dataset['theme'] = preference.value;
      window.localStorage.setItem(STORAGE_KEY, preference.value);
    }
  });

  function choose(next: ThemePreference): void {
    preference.value = next;
  }

  return { preference, choose };
});
