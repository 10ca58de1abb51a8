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
  /** The object-valued fields the command reads itself (RecipeFieldsOptions.sections). */
  sections: Record<string, unknown>;
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

/** A recipe file's JSON object, with one-line errors for a missing file, bad JSON or a non-object. */
export function readRecipeObject(nameOrPath: string): { file: string; json: Record<string, unknown> } {
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
  if (!isPlainObject(json)) throw new UserError(`${file}: a recipe is a JSON object of option names and values`);
  return { file, json };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface RecipeFieldsOptions {
  /** Object-valued fields the command reads itself (e.g. an experiment's `runs`), kept aside unchecked. */
  sections?: readonly string[];
  /** Fields the caller sets, refused with this reason (e.g. "set by the experiment's --dataset"). */
  reserved?: ReadonlyMap<string, string>;
}

/**
 * Checks the fields of `json` against the options `command` accepts: every field must be one of
 * them (a typo is an error naming the field and `where`, the file and, inside it, the place), with
 * a string, number or boolean value. Returns the option values and the sections.
 */
export function recipeFields(
  json: Record<string, unknown>,
  where: string,
  command: Command,
  options: RecipeFieldsOptions = {},
): { description?: string; values: Record<string, string | boolean>; sections: Record<string, unknown> } {
  const known = new Map(command.options.map((option) => [option.attributeName(), option]));
  const values: Record<string, string | boolean> = {};
  const sections: Record<string, unknown> = {};
  let description: string | undefined;
  for (const [field, value] of Object.entries(json)) {
    if (META_FIELDS.has(field)) {
      if (field === 'description' && typeof value === 'string') description = value;
      continue;
    }
    if (options.sections?.includes(field) === true) {
      if (!isPlainObject(value)) throw new UserError(`${where}: field '${field}' must be a JSON object`);
      sections[field] = value;
      continue;
    }
    if (field === 'recipe') throw new UserError(`${where}: field 'recipe': a recipe cannot name another recipe`);
    const reserved = options.reserved?.get(field);
    if (reserved !== undefined) throw new UserError(`${where}: field '${field}' cannot be set here (${reserved})`);
    const option = known.get(field);
    if (option === undefined) {
      const names = [...known.keys()].filter((name) => name !== 'recipe' && name !== 'help' && options.reserved?.has(name) !== true);
      names.push(...(options.sections ?? []));
      throw new UserError(`${where}: unknown field '${field}' for genir ${command.name()} (fields: ${names.sort().join(', ')})`);
    }
    if (typeof value === 'boolean') {
      if (option.required || option.optional)
        throw new UserError(`${where}: field '${field}' takes a value (${option.flags}), not ${value}`);
      values[field] = value;
    } else if (typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) {
      if (!option.required && !option.optional) throw new UserError(`${where}: field '${field}' is a switch: true or false`);
      values[field] = String(value);
    } else {
      throw new UserError(`${where}: field '${field}' must be a string, a number or true/false`);
    }
  }
  return { description, values, sections };
}

/**
 * Reads and checks a recipe against the options `command` accepts: every field must be one of
 * them (a typo is an error naming the field and the file), with a string, number or boolean value;
 * `sections` names object-valued fields the command reads itself.
 */
export function readRecipe(nameOrPath: string, command: Command, options: RecipeFieldsOptions = {}): Recipe {
  const { file, json } = readRecipeObject(nameOrPath);
  const { description, values, sections } = recipeFields(json, file, command, options);
  return { file, description, values, sections };
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
export function addRecipeOption(command: Command, fields: RecipeFieldsOptions = {}): Command {
  command.option(
    '--recipe <name|file>',
    "settings from a recipe file (JSON, the command's option names as fields; a bare name is a bundled recipe in recipes/); flags given here override it",
  );
  command.on('option:recipe', (nameOrPath: string) => {
    const recipe = readRecipe(nameOrPath, command, fields);
    for (const [field, value] of Object.entries(recipe.values)) {
      if (command.getOptionValueSource(field) === 'cli') continue;
      command.setOptionValueWithSource(field, value, 'config');
    }
  });
  return command;
}
