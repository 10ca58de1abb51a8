/**
 * Recipes as data: a JSON file holding a command's settings under the names of its long
 * options (`--pseudo-per-doc 20` is `"pseudoPerDoc": 20`), so a recipe reads like the command
 * line it stands for. Options given on the command line override the recipe's; the recipe
 * overrides the command's defaults. The recipes genir ships live in `recipes/`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { UserError } from '../util/errors.js';

export interface Recipe {
  /** Where it was read from, for messages. */
  file: string;
  description?: string;
  /** Option values by attribute name (camelCase long option), as strings the option parsers take. */
  values: Record<string, string | boolean>;
}

/** Fields that describe a recipe rather than set an option. */
const META_FIELDS = new Set(['$schema', 'description', 'measured']);

/** The folder of the recipes that ship with genir (`recipes/` at the package root). */
export function bundledRecipesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'recipes')) && existsSync(join(dir, 'package.json'))) return join(dir, 'recipes');
    const parent = dirname(dir);
    if (parent === dir) throw new Error('genir: the recipes/ folder of the package is missing');
    dir = parent;
  }
}

/** `quickstart` names a bundled recipe (recipes/quickstart.json); anything with a slash or `.json` is a path. */
export function resolveRecipePath(nameOrPath: string): string {
  if (nameOrPath.includes('/') || nameOrPath.endsWith('.json')) return nameOrPath;
  return join(bundledRecipesDir(), `${nameOrPath}.json`);
}

/**
 * Reads and checks a recipe against the options `command` accepts: every field must be one of
 * them (a typo is an error naming the field and the file), with a string, number or boolean value.
 */
export function readRecipe(nameOrPath: string, command: Command): Recipe {
  const file = resolveRecipePath(nameOrPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`--recipe ${nameOrPath}: ${existsSync(file) ? 'cannot be read' : 'not found'} (${file})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new UserError(`${file}: a recipe is a JSON object of option names and values`);
  const known = new Map(command.options.map((option) => [option.attributeName(), option]));
  const values: Record<string, string | boolean> = {};
  let description: string | undefined;
  for (const [field, value] of Object.entries(json as Record<string, unknown>)) {
    if (META_FIELDS.has(field)) {
      if (field === 'description' && typeof value === 'string') description = value;
      continue;
    }
    if (field === 'recipe') throw new UserError(`${file}: field 'recipe': a recipe cannot name another recipe`);
    const option = known.get(field);
    if (option === undefined) {
      const names = [...known.keys()].filter((name) => name !== 'recipe' && name !== 'help').sort();
      throw new UserError(`${file}: unknown field '${field}' for genir ${command.name()} (fields: ${names.join(', ')})`);
    }
    if (typeof value === 'boolean') {
      if (option.required || option.optional)
        throw new UserError(`${file}: field '${field}' takes a value (${option.flags}), not ${value}`);
      values[field] = value;
    } else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      if (!option.required && !option.optional) throw new UserError(`${file}: field '${field}' is a switch: true or false`);
      values[field] = String(value);
    } else {
      throw new UserError(`${file}: field '${field}' must be a string, a number or true/false`);
    }
  }
  return { file, description, values };
}

/**
 * Applies a recipe to a command's parsed options: a value from the recipe replaces a default or
 * an unset option, never one the user typed. Returns the merged options.
 */
export function applyRecipe<T extends object>(command: Command, options: T, recipe: Recipe): T {
  const merged = { ...options } as Record<string, unknown>;
  for (const [field, value] of Object.entries(recipe.values)) {
    if (command.getOptionValueSource(field) === 'cli') continue;
    merged[field] = value;
  }
  return merged as T;
}

/**
 * Adds `--recipe <name|file>` to a command: the recipe's fields are applied while the command line
 * is parsed, before required options are checked, so a recipe may give them. A flag typed on the
 * command line (before or after --recipe) wins over the recipe, which wins over the defaults.
 */
export function addRecipeOption(command: Command): Command {
  command.option(
    '--recipe <name|file>',
    "settings from a recipe file (JSON, the command's option names as fields; a bare name is a bundled recipe in recipes/); flags given here override it",
  );
  command.on('option:recipe', (nameOrPath: string) => {
    const recipe = readRecipe(nameOrPath, command);
    for (const [field, value] of Object.entries(recipe.values)) {
      if (command.getOptionValueSource(field) === 'cli') continue;
      command.setOptionValueWithSource(field, value, 'config');
    }
  });
  return command;
}
