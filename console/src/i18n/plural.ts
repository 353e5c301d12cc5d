// Counts in words. A count is never glued to a noun by hand ("1 решений", "1 calls"): each
// language gives every form its plural rules have (CLDR's, through `Intl.PluralRules`), and the
// types below make the compiler ask for each of them: Russian has one (1, 21, 101), few (2–4,
// 22–24), many (0, 5–20, 25…) and other (fractions); English has one and other.
// In a form, `#` stands for the count, written in the language's digits and grouping.

/** The forms of one counted phrase, per language. */
export interface PluralForms {
  ru: { one: string; few: string; many: string; other: string };
  en: { one: string; other: string };
}

export type PluralLang = keyof PluralForms;

const rules: { [L in PluralLang]?: Intl.PluralRules } = {};
const numbers: { [L in PluralLang]?: Intl.NumberFormat } = {};

/** The phrase for `n` in `lang`, with `#` replaced by the count. */
export function plural<L extends PluralLang>(lang: L, n: number, forms: PluralForms[L]): string {
  const rule = (rules[lang] ??= new Intl.PluralRules(lang)).select(n);
  const written = (numbers[lang] ??= new Intl.NumberFormat(lang)).format(n);
  const byRule: Partial<Record<Intl.LDMLPluralRule, string>> = forms;
  return (byRule[rule] ?? forms.other).replaceAll("#", written);
}

/** A Russian count: `ru(5, { one: "# звонок", few: "# звонка", many: "# звонков", other: "# звонка" })`. */
export function ru(n: number, forms: PluralForms["ru"]): string {
  return plural("ru", n, forms);
}

/** An English count: `en(5, { one: "# call", other: "# calls" })`. */
export function en(n: number, forms: PluralForms["en"]): string {
  return plural("en", n, forms);
}
