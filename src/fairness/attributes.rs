//! Which columns are protected attributes (never features by default) and
//! which are sensitive (features, but reported per group), and the group
//! label of every row for the fairness report.
//!
//! Detection is by column name, word by word (`MaritalStatus`,
//! `marital_status`, `Gender`, `customer_sex` …), so `Sussex` or
//! `percentage` are not mistaken for `sex` or `age`. A team can name more
//! columns (`[fairness] protected`), and deliberately keep one as a feature
//! (`--allow-protected`), which the model card then flags.

use serde::{Deserialize, Serialize};

/// Words that mark a protected attribute (regulators' protected grounds),
/// in English and in the languages of the extracts banks send (Spanish,
/// Portuguese, French, Italian, German, Dutch, Czech, Polish): a column
/// called `sexo` or `Geschlecht` is as protected as one called `gender`.
const PROTECTED_WORDS: &[&str] = &[
    "gender",
    "sex",
    "marital",
    "married",
    "religion",
    "religious",
    "race",
    "racial",
    "ethnicity",
    "ethnic",
    "nationality",
    "citizenship",
    "disability",
    "disabled",
    "handicap",
    "pregnancy",
    "pregnant",
    "maternity",
    "caste",
    // es / pt
    "sexo",
    "genero",
    "género",
    "gênero",
    "raza",
    "raça",
    "etnia",
    "religión",
    "religião",
    "nacionalidad",
    "nacionalidade",
    "discapacidad",
    "deficiencia",
    "deficiência",
    // fr
    "sexe",
    "genre",
    "ethnie",
    "nationalité",
    "nationalite",
    // it
    "sesso",
    "genere",
    "religione",
    "nazionalità",
    "nazionalita",
    "disabilità",
    // de / nl
    "geschlecht",
    "familienstand",
    "nationalität",
    "nationalitat",
    "staatsangehörigkeit",
    "behinderung",
    "geslacht",
    "nationaliteit",
    // cs / pl
    "pohlaví",
    "pohlavi",
    "národnost",
    "narodnost",
    "płeć",
    "plec",
    "narodowość",
];
/// Whole names (separators removed) that are protected though no word is.
const PROTECTED_NAMES: &[&str] = &[
    "maritalstatus",
    "civilstatus",
    "familystatus",
    "ethnicgroup",
    "countryofbirth",
    "estadocivil",
    "situationfamiliale",
    "statocivile",
    "burgerlijkestaat",
    "rodinnýstav",
    "rodinnystav",
];
/// Words that mark a sensitive attribute: age and what is derived from it.
/// Life stage is a legitimate banking input, so these stay features.
const SENSITIVE_WORDS: &[&str] = &["senior", "elderly", "dob", "birth", "birthyear"];
/// Words for an age in years (sensitive, and banded in the report), in the
/// same languages as [`PROTECTED_WORDS`].
const AGE_WORDS: &[&str] = &[
    "age", "edad", "idade", "âge", "età", "leeftijd", "věk", "wiek",
];

/// The `[fairness]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FairnessConfig {
    /// Protected columns besides those detected by name.
    pub protected: Vec<String>,
    /// Protected columns kept as features on purpose (`--allow-protected`).
    pub allow_protected: Vec<String>,
    /// Sensitive columns besides those detected by name (age-like).
    pub sensitive: Vec<String>,
}

/// How the fairness rules treat a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Not a feature (the default for a protected attribute).
    Protected,
    /// Protected, but kept as a feature by `--allow-protected`: reason codes
    /// still never cite it.
    ProtectedAllowed,
    /// A feature reported per group (age and its proxies).
    Sensitive,
}

/// The words of a column name: split at non-alphanumerics and at
/// lower→upper case changes, lower-cased.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if (!c.is_alphanumeric() || (c.is_uppercase() && prev_lower)) && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Is `name` a protected attribute by its name?
pub fn looks_protected(name: &str) -> bool {
    let w = words(name);
    let joined: String = w.concat();
    w.iter().any(|w| PROTECTED_WORDS.contains(&w.as_str()))
        || PROTECTED_NAMES.contains(&joined.as_str())
}

/// Is `name` age or derived from age, by its name?
pub fn looks_sensitive(name: &str) -> bool {
    let w = words(name);
    w.iter()
        .any(|w| SENSITIVE_WORDS.contains(&w.as_str()) || AGE_WORDS.contains(&w.as_str()))
        || w.concat() == "dateofbirth"
}

/// Is `name` an age in years (banded in the report)?
pub fn is_age(name: &str) -> bool {
    words(name).iter().any(|w| AGE_WORDS.contains(&w.as_str()))
}

impl FairnessConfig {
    /// The role of column `name`, if any (configured names match exactly,
    /// case-insensitively).
    pub fn role(&self, name: &str) -> Option<Role> {
        let listed = |l: &[String]| l.iter().any(|c| c.eq_ignore_ascii_case(name));
        if listed(&self.protected) || looks_protected(name) {
            Some(if listed(&self.allow_protected) {
                Role::ProtectedAllowed
            } else {
                Role::Protected
            })
        } else if listed(&self.sensitive) || looks_sensitive(name) {
            Some(Role::Sensitive)
        } else {
            None
        }
    }
}

/// Age bands of the fairness report (years; upper bounds exclusive).
pub const AGE_BANDS: [(f64, &str); 5] = [
    (18.0, "<18"),
    (30.0, "18-29"),
    (45.0, "30-44"),
    (60.0, "45-59"),
    (f64::INFINITY, "60+"),
];

/// The group label of an age: its band, or `missing`.
pub fn age_band(age: f64) -> &'static str {
    if age.is_nan() {
        return "missing";
    }
    AGE_BANDS
        .iter()
        .find(|(upper, _)| age < *upper)
        .map_or("60+", |b| b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_word_by_word() {
        for p in [
            "Gender",
            "gender",
            "customer_sex",
            "MaritalStatus",
            "marital-status",
            "maritalstatus",
            "Race",
            "RELIGION",
            "sexo",
            "Geschlecht",
            "ESTADO_CIVIL",
            "nacionalidad",
            "pohlavi",
        ] {
            assert!(looks_protected(p), "{p}");
        }
        for n in [
            "Sussex",
            "trace_id",
            "Tenure",
            "Balance",
            "percentage",
            "Geography",
            "SeniorCitizen",
        ] {
            assert!(!looks_protected(n), "{n}");
        }
        assert!(
            looks_sensitive("Age")
                && looks_sensitive("customer_age")
                && looks_sensitive("SeniorCitizen")
        );
        assert!(
            !looks_sensitive("percentage")
                && !looks_sensitive("Mortgage")
                && !looks_sensitive("usage")
        );
        assert!(is_age("AgeYears") && !is_age("SeniorCitizen"));
        assert!(is_age("edad") && looks_sensitive("Leeftijd") && !looks_protected("edad"));
    }

    #[test]
    fn configuration_adds_and_allows() {
        let cfg = FairnessConfig {
            protected: vec!["Religion_Code".into(), "gender".into()],
            allow_protected: vec!["Gender".into()],
            sensitive: vec![],
        };
        assert_eq!(cfg.role("Gender"), Some(Role::ProtectedAllowed));
        assert_eq!(cfg.role("religion_code"), Some(Role::Protected));
        assert_eq!(cfg.role("Age"), Some(Role::Sensitive));
        assert_eq!(cfg.role("Balance"), None);
    }

    #[test]
    fn age_bands() {
        assert_eq!(
            [
                age_band(17.0),
                age_band(18.0),
                age_band(29.9),
                age_band(30.0),
                age_band(59.0),
                age_band(60.0),
                age_band(f64::NAN)
            ],
            ["<18", "18-29", "18-29", "30-44", "45-59", "60+", "missing"]
        );
    }
}
