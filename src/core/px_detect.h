/*
 * px_detect.h
 *		Backend-free recognisers of personal data, for
 *		privacy.detect_personal_data(): one value at a time (is this an
 *		e-mail address, a Luhn-valid card number, a mod-97-valid IBAN...),
 *		one column name at a time (does "date_naissance" mean a date of
 *		birth), and the confidence that combines both over a sample.
 *
 * No postgres.h, no allocation; every function accepts any bytes (invalid
 * UTF-8, embedded NULs, empty input) and only reads s[0..len).
 */
#ifndef PX_DETECT_H
#define PX_DETECT_H

#include <stdbool.h>
#include <stddef.h>

/* The categories detection reports, in the order of their priority on ties. */
typedef enum PxDetectCategory
{
	PX_DETECT_EMAIL = 0,
	PX_DETECT_PAYMENT_CARD,
	PX_DETECT_IBAN,
	PX_DETECT_US_SSN,
	PX_DETECT_PHONE,
	PX_DETECT_IP_ADDRESS,
	PX_DETECT_DATE_OF_BIRTH,
	PX_DETECT_PERSON_NAME,
	PX_DETECT_POSTAL_CODE,
	PX_DETECT_COUNT
} PxDetectCategory;

#define PX_DETECT_BIT(c)	(1u << (unsigned) (c))

/*
 * Digit shapes: evidence weaker than a category's format.  A bare number
 * (only digits, as a number column prints or a text column may hold) with
 * the digits of an SSN or a phone number is as much an id, an amount in
 * cents or a ZIP+4: it supports a column name that says the category, and
 * alone stays below the reporting threshold.  Their bits follow the
 * categories' bits; px_detect_value never sets a shape's bit together with
 * its category's.
 */
typedef enum PxDetectShape
{
	PX_SHAPE_US_SSN = 0,		/* 9 digits in the ranges the SSA issues */
	PX_SHAPE_PHONE,				/* 8 to 15 digits: E.164 without '+', a national number */
	PX_SHAPE_COUNT
} PxDetectShape;

#define PX_DETECT_SHAPE_BIT(s)	(1u << (unsigned) (PX_DETECT_COUNT + (s)))

/* Category bits and shape bits: what the value recognisers return. */
#define PX_DETECT_VALUE_BITS	(PX_DETECT_COUNT + PX_SHAPE_COUNT)

/* The category whose digits a shape has; -1 for a value out of range. */
extern int	px_detect_shape_category(int shape);

/* "email", "payment_card", ...; NULL for a value out of range. */
extern const char *px_detect_category_name(int category);

/* --- one value ------------------------------------------------------------ */

extern bool px_detect_email(const char *s, size_t len);

/* E.164 ("+" and 8 to 15 digits) or a national number of 9 to 11 digits in groups. */
extern bool px_detect_phone(const char *s, size_t len);

/* 13 to 19 digits (spaces or hyphens between groups), Luhn-valid, a card prefix. */
extern bool px_detect_payment_card(const char *s, size_t len);
extern bool px_luhn_valid(const char *digits, size_t n);

/* Country code, check digits, 11 to 30 letters or digits (spaces allowed), mod 97 = 1. */
extern bool px_detect_iban(const char *s, size_t len);

/* AAA-GG-SSSS (or with spaces) with an area, group and serial the SSA issues. */
extern bool px_detect_us_ssn(const char *s, size_t len);

/* Digit shapes: exactly 9 digits in the SSN ranges; 8 to 15 digits, not all one digit. */
extern bool px_detect_us_ssn_digits(const char *s, size_t len);
extern bool px_detect_phone_digits(const char *s, size_t len);

extern bool px_detect_ipv4(const char *s, size_t len);
extern bool px_detect_ipv6(const char *s, size_t len);

/*
 * A calendar date (YYYY-MM-DD, YYYY/MM/DD, DD/MM/YYYY, MM/DD/YYYY,
 * DD.MM.YYYY, DD-MM-YYYY) of someone aged 16 to 110 in current_year.
 */
extern bool px_detect_birth_date(const char *s, size_t len, int current_year);

/*
 * The shape of a postal code: 3 to 10 characters, 2 to 9 digits, at most 5
 * letters and one space or hyphen.
 */
extern bool px_detect_postal_code_shape(const char *s, size_t len);

/* One to four words of letters, one of them a first name of the shipped dictionary. */
extern bool px_detect_person_name(const char *s, size_t len);

/*
 * Every category the value matches (PX_DETECT_BIT of each), and the digit
 * shapes of a value of digits only (PX_DETECT_SHAPE_BIT), surrounding
 * white space ignored; 0 for none.
 */
extern unsigned px_detect_value(const char *s, size_t len, int current_year);

/*
 * The same for the decimal text of a number column's value (int, bigint,
 * numeric as PostgreSQL prints them): card numbers, postal codes and digit
 * shapes of a value of digits only, an SSN's leading zeros restored (SSN
 * 012-34-5678 is the integer 12345678); a sign, a fraction or an exponent
 * makes no identifier, 0.
 */
extern unsigned px_detect_number(const char *s, size_t len);

/* --- one column name ------------------------------------------------------ */

typedef struct PxNameHint
{
	unsigned	strong;			/* categories the name says plainly (e.g. "email") */
	unsigned	weak;			/* categories the name suggests (e.g. a bare "name") */
	bool		decoy;			/* a name of codes, versions, orders... */
} PxNameHint;

/*
 * What a column name suggests, in English, French, German, Spanish and
 * Chinese pinyin; case, '_', '-', '.', spaces and camelCase split words.
 */
extern PxNameHint px_detect_column_name(const char *name, size_t len);

/* --- confidence ----------------------------------------------------------- */

/*
 * Confidence in [0, 1] that a column holds `category`, from the number of
 * non-NULL values sampled, how many of them matched, and the name's hint.
 * The matching fraction is weighted by how reliable a match of the
 * category is; a name hint adds to it, less when the values sampled
 * contradict it; a decoy name halves value evidence the name does not
 * back.
 */
extern double px_detect_confidence(int category, long sampled, long matched,
								   PxNameHint hint);

/*
 * The same with `shaped` more values that have the category's digit shape
 * but not its format: they count as value evidence of reliability 0.45
 * (below the threshold alone, like dates of birth) and do not contradict a
 * name that says the category.
 */
extern double px_detect_confidence_shaped(int category, long sampled, long matched,
										  long shaped, PxNameHint hint);

/* Confidence from which detect_personal_data reports a column. */
#define PX_DETECT_REPORT_THRESHOLD 0.5

#endif							/* PX_DETECT_H */
