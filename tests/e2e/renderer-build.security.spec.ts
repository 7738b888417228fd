import { expect, test } from '@playwright/test';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/security-policy';

const DIST = fileURLToPath(new URL('../../dist/renderer/', import.meta.url));

// The CSP has no 'unsafe-inline': anything inline in the built output would be refused at run time.
test.describe('the built renderer under a strict CSP', () => {
  test('has no inline script, inline style or style attribute, and carries the policy as a meta', async () => {
    const html = await readFile(`${DIST}index.html`, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes = '', body = ''] of scripts) {
      expect(attributes).toMatch(/\bsrc="\.\/assets\/[^"]+\.js"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    expect(html).toContain(`content="${CONTENT_SECURITY_POLICY}"`);
  });

  test('ships stylesheets as files and no data: scripts', async () => {
    const assets = await readdir(`${DIST}assets`);
    expect(assets.some((name) => name.endsWith('.css'))).toBe(true);
    for (const name of assets.filter((n) => n.endsWith('.js'))) {
      expect(await readFile(`${DIST}assets/${name}`, 'utf8')).not.toContain('data:text/javascript');
    }
  });
});
