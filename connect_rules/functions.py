"""8x8's own functions for workflow scripts, as the Automation engine offers them.

``stringContains(source, value, ignoreCase)``, ``isCountryCode(phone, 'SG')``,
``isTimeOfDayBetween(timestamp, from, to, timeZone)`` and ``isDayOfWeek(date, 'Tuesday')``
(NOTES.md, "Script rules"; ``GET .../steps/functions`` lists them, ``.../steps/timezones``
the zones). They are installed into every QuickJS context that evaluates ``{{ }}``.

Choices where 8x8's text is silent, written down:
- time zones are Windows ids, as 8x8's examples show; the sandbox knows the ones in
  ``TIME_ZONES`` and an unknown id is an error (the script fails), never a guess;
- ``from``/``to`` are "HH:mm" or "HH:mm:ss"; a window whose end is before its start spans
  midnight; the start is included and the end is not;
- an unparseable timestamp, day name, time or country code is an error (the script fails),
  not ``false``; a phone number that is not E.164 is simply not of that country.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers

# Windows time-zone id -> (IANA zone, display name as 8x8 lists it).
TIME_ZONES = {
    "UTC": ("UTC", "Coordinated Universal Time (UTC)"),
    "GMT Standard Time": ("Europe/London", "Dublin, Edinburgh, Lisbon, London (UTC+00:00)"),
    "W. Europe Standard Time": ("Europe/Berlin", "Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna (UTC+01:00)"),
    "Central Europe Standard Time": (
        "Europe/Budapest",
        "Belgrade, Bratislava, Budapest, Ljubljana, Prague (UTC+01:00)",
    ),
    "Romance Standard Time": ("Europe/Paris", "Brussels, Copenhagen, Madrid, Paris (UTC+01:00)"),
    "Central European Standard Time": ("Europe/Warsaw", "Sarajevo, Skopje, Warsaw, Zagreb (UTC+01:00)"),
    "E. Europe Standard Time": ("Europe/Chisinau", "Chisinau (UTC+02:00)"),
    "India Standard Time": ("Asia/Kolkata", "Chennai, Kolkata, Mumbai, New Delhi (UTC+05:30)"),
    "SE Asia Standard Time": ("Asia/Bangkok", "Bangkok, Hanoi, Jakarta (UTC+07:00)"),
    "Singapore Standard Time": ("Asia/Singapore", "Kuala Lumpur, Singapore (UTC+08:00)"),
    "China Standard Time": ("Asia/Shanghai", "Beijing, Chongqing, Hong Kong, Urumqi (UTC+08:00)"),
    "Taipei Standard Time": ("Asia/Taipei", "Taipei (UTC+08:00)"),
    "W. Australia Standard Time": ("Australia/Perth", "Perth (UTC+08:00)"),
    "Tokyo Standard Time": ("Asia/Tokyo", "Osaka, Sapporo, Tokyo (UTC+09:00)"),
    "Korea Standard Time": ("Asia/Seoul", "Seoul (UTC+09:00)"),
    "AUS Eastern Standard Time": ("Australia/Sydney", "Canberra, Melbourne, Sydney (UTC+10:00)"),
    "New Zealand Standard Time": ("Pacific/Auckland", "Auckland, Wellington (UTC+12:00)"),
    "Eastern Standard Time": ("America/New_York", "Eastern Time (US & Canada) (UTC-05:00)"),
    "Central Standard Time": ("America/Chicago", "Central Time (US & Canada) (UTC-06:00)"),
    "Mountain Standard Time": ("America/Denver", "Mountain Time (US & Canada) (UTC-07:00)"),
    "Pacific Standard Time": ("America/Los_Angeles", "Pacific Time (US & Canada) (UTC-08:00)"),
    "E. South America Standard Time": ("America/Sao_Paulo", "Brasilia (UTC-03:00)"),
    "Central Standard Time (Mexico)": ("America/Mexico_City", "Guadalajara, Mexico City, Monterrey (UTC-06:00)"),
}


def _param(name, kind, required, description, example, default=None) -> dict:
    return {
        "name": name,
        "type": kind,
        "required": required,
        "default": default,
        "example": example,
        "description": description,
    }


# What GET .../steps/functions answers (the `function` schema of automation_api.json).
FUNCTIONS = [
    {
        "name": "stringContains",
        "example": "stringContains(data.payload.content.text, 'STOP', true)",
        "description": "Checks if a string contains a value. Case-sensitive unless ignoreCase is true.",
        "parameters": [
            _param("source", "string", True, "String to search in.", "Please STOP"),
            _param("value", "string", True, "Value to search for.", "STOP"),
            _param("ignoreCase", "boolean", False, "Ignore case when comparing.", True, False),
        ],
    },
    {
        "name": "isCountryCode",
        "example": "isCountryCode(data.payload.user.msisdn, 'SG')",
        "description": "Checks if a phone number belongs to a country (ISO 3166-1 alpha-2 code).",
        "parameters": [
            _param("phone", "string", True, "Phone number in international format.", "+6591234567"),
            _param("countryCode", "string", True, "Two-letter country code.", "SG"),
        ],
    },
    {
        "name": "isTimeOfDayBetween",
        "example": "isTimeOfDayBetween(data.triggeredAt, '09:00', '18:00', 'Singapore Standard Time')",
        "description": "Checks if the time of day of a timestamp, in a time zone, is within a window.",
        "parameters": [
            _param("timestamp", "string", True, "ISO 8601 timestamp.", "2021-05-25T03:00:00Z"),
            _param("from", "string", True, "Start of the window (HH:mm).", "09:00"),
            _param("to", "string", True, "End of the window (HH:mm).", "18:00"),
            _param("timeZone", "string", True, "Time zone id (GET .../steps/timezones).", "Singapore Standard Time"),
        ],
    },
    {
        "name": "isDayOfWeek",
        "example": "isDayOfWeek('2021-05-25', 'Tuesday')",
        "description": "Checks if a date or timestamp falls on a given day of the week. Useful to design workflows "
        "that behaves differently on different days of the week (e.g., week vs weekend).",
        "parameters": [
            _param(
                "timestamp",
                "string",
                True,
                "Date or a timestamp. Standard date and datetime formats are supported.",
                "2021-05-25",
            ),
            _param("day", "string", True, "Day of the week (not case sensitive).", "Monday"),
        ],
    },
]


# QuickJS cannot call into Python while a time limit is set (and 8x8 stops scripts after
# 500 ms), so the functions are JavaScript. What they need from Python's libraries (time-zone
# offsets from zoneinfo, countries of calling codes from phonenumbers) is put in as tables.
_JS_FUNCTIONS = r"""
function __8x8_fail(name, message) { throw new Error(name + ': ' + message); }
function __8x8_moment(name, value) {
  var ms = typeof value === 'string' ? Date.parse(value.trim()) : NaN;
  if (isNaN(ms)) { __8x8_fail(name, 'not a date or timestamp: ' + JSON.stringify(value)); }
  return ms;
}
function __8x8_minutes(name, value) {
  var m = /^([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9]))?$/.exec(String(value));
  if (!m) { __8x8_fail(name, 'not a time of day (HH:mm): ' + JSON.stringify(value)); }
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3] || 0) / 60;
}
function stringContains(source, value, ignoreCase) {
  var s = source == null ? '' : String(source), v = value == null ? '' : String(value);
  return ignoreCase === true ? s.toLowerCase().indexOf(v.toLowerCase()) !== -1 : s.indexOf(v) !== -1;
}
function isDayOfWeek(timestamp, day) {
  var days = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  var wanted = typeof day === 'string' ? days.indexOf(day.trim().toLowerCase()) : -1;
  if (wanted < 0) { __8x8_fail('isDayOfWeek', 'not a day of the week: ' + JSON.stringify(day)); }
  return new Date(__8x8_moment('isDayOfWeek', timestamp)).getUTCDay() === wanted;
}
function isTimeOfDayBetween(timestamp, from, to, timeZone) {
  var zone = __8x8_zones[timeZone];
  if (!zone) { __8x8_fail('isTimeOfDayBetween', 'unknown time zone ' + JSON.stringify(timeZone)); }
  var ms = __8x8_moment('isTimeOfDayBetween', timestamp), offset = zone[0][1];
  for (var i = 0; i < zone.length && zone[i][0] <= ms; i++) { offset = zone[i][1]; }
  var local = new Date(ms + offset * 60000);
  var now = local.getUTCHours() * 60 + local.getUTCMinutes() + local.getUTCSeconds() / 60;
  var start = __8x8_minutes('isTimeOfDayBetween', from), end = __8x8_minutes('isTimeOfDayBetween', to);
  return start <= end ? (start <= now && now < end) : (now >= start || now < end);
}
function isCountryCode(phone, countryCode) {
  if (typeof countryCode !== 'string' || !/^[A-Za-z]{2}$/.test(countryCode)) {
    __8x8_fail('isCountryCode', 'not a two-letter country code: ' + JSON.stringify(countryCode));
  }
  var digits = String(phone == null ? '' : phone).replace(/[\s().-]/g, '');
  var m = /^\+?([1-9][0-9]{6,14})$/.exec(digits);
  if (!m) { return false; }
  for (var n = 1; n <= 3; n++) {
    var regions = __8x8_regions[m[1].slice(0, n)];
    if (regions) {
      var national = m[1].slice(n);
      for (var i = 0; i < regions.length; i++) {
        var r = regions[i];
        if (r[1] ? new RegExp('^(?:' + r[1] + ')').test(national) : new RegExp('^(?:' + r[2] + ')$').test(national)) {
          return r[0] === countryCode.toUpperCase();
        }
      }
      return false;
    }
  }
  return false;
}
"""


@lru_cache(maxsize=1)
def _prelude() -> str:
    return (
        f"var __8x8_zones = {json.dumps(_zone_offsets())};\n"
        f"var __8x8_regions = {json.dumps(_calling_codes())};\n{_JS_FUNCTIONS}"
    )


def _zone_offsets(first_year: int = 2000, last_year: int = 2040) -> dict[str, list]:
    """Per zone: [[utc ms from which it applies, offset in minutes], ...] from zoneinfo."""

    def offset(zone, moment):
        return int(moment.astimezone(zone).utcoffset().total_seconds() // 60)

    tables = {}
    for zone_id, (iana, _) in TIME_ZONES.items():
        zone = ZoneInfo(iana)
        moment = datetime(first_year, 1, 1, tzinfo=UTC)
        end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
        current = offset(zone, moment)
        table = [[-8.64e15, current]]
        while moment < end:
            later = moment + timedelta(days=7)
            if offset(zone, later) != current:  # a change within the week: find its minute
                low, high = moment, later
                while high - low > timedelta(minutes=1):
                    middle = low + (high - low) / 2
                    low, high = (middle, high) if offset(zone, middle) == current else (low, middle)
                current = offset(zone, high)
                table.append([int(high.timestamp() * 1000), current])
            moment = later
        tables[zone_id] = table
    return tables


_NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
)


def _calling_codes() -> dict[str, list]:
    """Calling code -> [[region, leading digits, number pattern], ...] in phonenumbers' order.

    As phonenumbers' region_code_for_number: of the regions sharing a code, the first whose
    leading digits start the national number, or (without leading digits) whose number
    patterns match it in full; with one region, that region.
    """
    codes = {}
    for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        rows = []
        for region in (r for r in regions if r != "001"):
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if len(regions) == 1 or meta is None:
                rows.append([region, "", ".*"])
                continue
            patterns = [
                getattr(meta, t).national_number_pattern
                for t in _NUMBER_TYPES
                if getattr(meta, t, None) is not None and getattr(meta, t).national_number_pattern
            ]
            rows.append([region, meta.leading_digits or "", "|".join(f"(?:{p})" for p in patterns)])
        if rows:
            codes[str(code)] = rows
    return codes


def install(context) -> None:
    """Define 8x8's functions in a QuickJS context (engine code, not a user's script)."""
    context.eval(_prelude())


def time_zones(contains: str | None = None) -> list[dict]:
    needle = (contains or "").casefold()
    return [
        {"id": zone_id, "name": name}
        for zone_id, (_, name) in TIME_ZONES.items()
        if needle in zone_id.casefold() or needle in name.casefold()
    ]
