//! The extra-details form and its validation.

use serde::Deserialize;
use time::{Date, OffsetDateTime, macros::format_description};

use crate::progress::Details;

/// The longest preferred name accepted, in characters.
const MAX_NAME_CHARS: usize = 40;

/// The form as posted.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct DetailsForm {
    /// Sealed progress.
    #[serde(default)]
    pub progress: String,
    /// As typed.
    #[serde(default)]
    pub preferred_name: String,
    /// As the date input sends it: `YYYY-MM-DD`.
    #[serde(default)]
    pub date_of_birth: String,
}

/// What is wrong with each field, as shown next to it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DetailsErrors {
    /// The preferred name's problem.
    pub preferred_name: Option<&'static str>,
    /// The date of birth's problem.
    pub date_of_birth: Option<&'static str>,
}

impl DetailsForm {
    /// Validates the form against `today`.
    pub fn validate(&self, today: Date) -> Result<Details, DetailsErrors> {
        let name = self.preferred_name.trim();
        let name_error = if name.is_empty() {
            Some("Enter the name you would like to be called.")
        } else if name.chars().count() > MAX_NAME_CHARS {
            Some("Use 40 characters or fewer.")
        } else if name.chars().any(char::is_control) {
            Some("Use letters, spaces and punctuation only.")
        } else {
            None
        };
        let birth = Date::parse(
            self.date_of_birth.trim(),
            format_description!("[year]-[month]-[day]"),
        );
        let birth_error = match birth {
            _ if self.date_of_birth.trim().is_empty() => Some("Enter your date of birth."),
            Err(_) => Some("Enter a real date, for example 1990-04-21."),
            Ok(date) if date > today => Some("Your date of birth must be in the past."),
            Ok(date) if date.year() < 1900 => Some("Enter a date in 1900 or later."),
            Ok(_) => None,
        };
        match (name_error, birth_error, birth) {
            (None, None, Ok(date)) => Ok(Details {
                preferred_name: name.to_owned(),
                date_of_birth: date.to_string(),
            }),
            _ => Err(DetailsErrors {
                preferred_name: name_error,
                date_of_birth: birth_error,
            }),
        }
    }
}

/// Today's date in UTC.
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn form(name: &str, birth: &str) -> DetailsForm {
        DetailsForm {
            progress: String::new(),
            preferred_name: name.into(),
            date_of_birth: birth.into(),
        }
    }

    const TODAY: Date = date!(2026 - 11 - 29);

    #[test]
    fn accepts_good_details() {
        let details = form("  Ada ", "1915-12-10").validate(TODAY).unwrap();
        assert_eq!(
            details,
            Details {
                preferred_name: "Ada".into(),
                date_of_birth: "1915-12-10".into()
            }
        );
        assert!(form("Zoë-Ana O'Neil", "2026-11-29").validate(TODAY).is_ok());
    }

    #[test]
    fn explains_each_problem() {
        let errors = form("", "").validate(TODAY).unwrap_err();
        assert_eq!(
            errors.preferred_name,
            Some("Enter the name you would like to be called.")
        );
        assert_eq!(errors.date_of_birth, Some("Enter your date of birth."));
        let errors = form(&"a".repeat(41), "2023-02-30")
            .validate(TODAY)
            .unwrap_err();
        assert_eq!(errors.preferred_name, Some("Use 40 characters or fewer."));
        assert_eq!(
            errors.date_of_birth,
            Some("Enter a real date, for example 1990-04-21.")
        );
        assert_eq!(
            form("A\u{7}", "2026-11-30").validate(TODAY).unwrap_err(),
            DetailsErrors {
                preferred_name: Some("Use letters, spaces and punctuation only."),
                date_of_birth: Some("Your date of birth must be in the past."),
            }
        );
        assert!(form("Ada", "1899-12-31").validate(TODAY).is_err());
        assert!(form("Ada", "10/12/1915").validate(TODAY).is_err());
    }
}
