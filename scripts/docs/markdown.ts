// The guide pages: every docs/guide/*.md, plus the notes, benchmarks and examples' guide that live
// elsewhere in the repository, rendered with markdown-it into site/<name>.html. Headings get
// GitHub's anchors, links between rendered files point at their pages, images are copied into
// the site, and links to other files of the repository (which the site does not hold) become text.
import * as fs from 'fs';
import * as path from 'path';

import MarkdownIt from 'markdown-it';

export const ROOT = path.resolve(__dirname, '../..');
export const GUIDE_DIR = path.join(ROOT, 'docs/guide');

/** Markdown files outside docs/guide that become pages (a guide page of the same name wins). */
const EXTRA_PAGES = ['docs/TFJS-NOTES.md', 'docs/benchmarks-gpu.md', 'examples/README.md'];

/** Output names of the extras whose file name says nothing (README.md). */
const EXTRA_NAMES: Record<string, string> = {'examples/README.md': 'examples-guide'};

const IMAGE = /\.(png|jpe?g|gif|svg|webp)$/i;

export interface MarkdownSource {
  /** Absolute path of the .md file. */
  file: string;
  /** The page's path in the site (`tfjs-notes.html`). */
  page: string;
}

export interface MarkdownPage extends MarkdownSource {
  title: string;
  body: string;
  /** Files of the repository the page links to that the site does not hold (shown as text). */
  unlinked: string[];
}

function pageName(file: string): string {
  const repoPath = path.relative(ROOT, file).split(path.sep).join('/');
  let name = EXTRA_NAMES[repoPath] ?? path.basename(file, path.extname(file)).toLowerCase();
  if (name === 'index' || name === 'readme') name = 'guide';  // index.html is the landing page
  return `${name}.html`;
}

/** The markdown files that become pages: the guide (sorted by file name), then the extras. */
export function markdownSources(): {sources: MarkdownSource[]; skipped: string[]} {
  const guide = fs.existsSync(GUIDE_DIR) ?
      fs.readdirSync(GUIDE_DIR).filter((f) => f.toLowerCase().endsWith('.md')).sort().map((f) => path.join(GUIDE_DIR, f)) :
      [];
  const sources: MarkdownSource[] = [];
  const skipped: string[] = [];
  const byPage = new Map<string, string>();
  for (const file of guide) {
    const page = pageName(file);
    if (byPage.has(page)) throw new Error(`docs/guide: ${path.basename(file)} and ${path.basename(byPage.get(page)!)} would both be ${page}`);
    byPage.set(page, file);
    sources.push({file, page});
  }
  for (const rel of EXTRA_PAGES) {
    const file = path.join(ROOT, rel);
    if (!fs.existsSync(file)) continue;
    const page = pageName(file);
    if (byPage.has(page)) {
      skipped.push(`${rel} (docs/guide/${path.basename(byPage.get(page)!)} is ${page})`);
      continue;
    }
    byPage.set(page, file);
    sources.push({file, page});
  }
  return {sources, skipped};
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(text: string): string {
  return text.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

type Tokens = ReturnType<MarkdownIt['parse']>;

/** Where the site keeps a repository file it copies (images). */
function assetPath(repoPath: string): string {
  return `assets/files/${repoPath}`;
}

/**
 * Renders one markdown file. `pageOf` maps absolute .md paths to their pages; `copy` is told each
 * repository file (image) the page shows, by repository path; a code span that is a loss's name
 * (or its call, `name(...)`) outside a link becomes a link to its section, `lossHref`.
 */
export function renderMarkdown(
    source: MarkdownSource, pageOf: Map<string, string>, copy: (repoPath: string) => void,
    lossHref: Map<string, string> = new Map()): MarkdownPage {
  const md = new MarkdownIt({html: true, linkify: false, typographer: false});
  const text = fs.readFileSync(source.file, 'utf8');
  const tokens: Tokens = md.parse(text, {});
  const dir = path.dirname(source.file);
  const unlinked: string[] = [];
  let title: string|undefined;
  const used = new Map<string, number>();

  /** The new target of a relative link, or null when the site has no page for it. */
  const resolve = (href: string, image: boolean): string|null => {
    if (/^([a-z][a-z0-9+.-]*:|\/\/|#)/i.test(href)) return href;  // absolute URL or in-page anchor
    const [target, hash = ''] = href.split('#');
    const absolute = path.resolve(dir, decodeURI(target));
    const repoPath = path.relative(ROOT, absolute).split(path.sep).join('/');
    if (repoPath.startsWith('..') || !fs.existsSync(absolute)) return null;
    if (pageOf.has(absolute)) return pageOf.get(absolute)! + (hash ? `#${hash}` : '');
    if (repoPath === 'README.md') return 'index.html';
    if (image || IMAGE.test(absolute)) {
      if (!fs.statSync(absolute).isFile()) return null;
      copy(repoPath);
      return assetPath(repoPath);
    }
    return null;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token.type === 'heading_open') {
      const content = tokens[i + 1]?.children?.filter((c) => c.type === 'text' || c.type === 'code_inline')
          .map((c) => c.content).join('') ?? '';
      title ??= content;
      const base = slug(content);
      const n = used.get(base) ?? 0;
      used.set(base, n + 1);
      token.attrSet('id', n ? `${base}-${n}` : base);
    }
    const children = token.children ?? [];
    let linkDepth = 0;
    for (let j = 0; j < children.length; j++) {
      const child = children[j];
      if (child.type === 'link_open') linkDepth++;
      if (child.type === 'link_close') linkDepth--;
      const loss = child.type === 'code_inline' && linkDepth === 0 ? /^([A-Za-z]\w*)(\(.*\))?$/.exec(child.content)?.[1] : undefined;
      if (loss && lossHref.has(loss)) {
        const Token = child.constructor as new (type: string, tag: string, nesting: -1|0|1) => typeof child;
        const open = new Token('link_open', 'a', 1);
        open.attrs = [['href', lossHref.get(loss)!]];
        children.splice(j, 1, open, child, new Token('link_close', 'a', -1));
        j += 2;
        continue;
      }
      if (child.type === 'image') {
        const src = child.attrGet('src') ?? '';
        const to = resolve(src, true);
        if (to === null) unlinked.push(src);
        else child.attrSet('src', to);
      } else if (child.type === 'link_open') {
        const href = child.attrGet('href') ?? '';
        const to = resolve(href, false);
        if (to !== null) {
          child.attrSet('href', to);
          continue;
        }
        // A file the site does not hold: keep the words, drop the link.
        unlinked.push(href);
        child.tag = 'span';
        child.attrs = [['class', 'repo-path'], ['title', `${href} in the repository`]];
        let depth = 0;
        for (let k = j + 1; k < children.length; k++) {
          if (children[k].type === 'link_open') depth++;
          if (children[k].type === 'link_close' && depth-- === 0) {
            children[k].tag = 'span';
            break;
          }
        }
      }
    }
  }
  const body = md.renderer.render(tokens, md.options, {});
  return {...source, title: title || path.basename(source.file, '.md'), body, unlinked};
}
