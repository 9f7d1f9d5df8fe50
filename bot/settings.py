"""Configuration from the environment (prefix ``FEEDBACKBOT_``, also read from ``.env``).

The variable names are a public contract (see DESIGN.md); keep them working. What is
wrong with them is said in the operator's language (bot.operator).
"""

from __future__ import annotations

import logging
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from difflib import get_close_matches
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from dotenv.parser import parse_stream
from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.operator import operator_translator
from flows.catalog import shipped_flow_ids
from flows.check import in_days
from flows.durations import InvalidDuration, NotPositive, parse_duration
from flows.figures import RATERS_KEPT
from flows.i18n import N_, SUPPORTED_LOCALES
from flows.models import retention_of
from flows.processing import AUDIT_RETENTION, TELEGRAM_ROLES
from flows.service import DEFAULT_FEEDBACK_LIMIT
from flows.toml_lines import loads
from storage.masterkey import OPEN_TO_OTHERS

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
LONGEST_PURGE_INTERVAL = timedelta(days=1)
SHORT_RETENTION = timedelta(days=1)
"""Allowed (tests, demos), but warned about at start, and refused where it would cut
feedback already stored short (see bot.app.refuse_cutting_short)."""
MALFORMED_TOKEN = N_(
    "is not a bot token as @BotFather gives it (digits, a colon, then letters, digits, _ and -)"
)
_LARGEST_ID = 2**53  # Telegram: ids fit into 52 bits
TELEGRAM_SERVICE_ACCOUNTS = frozenset({1087968824, 136817688, 777000})
"""GroupAnonymousBot (an anonymous group admin), Channel_Bot (a post as a channel) and
Telegram (a linked channel's forwards): one id for many people (found by review: listed
as staff, every anonymous admin of the staff chat was staff)."""


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DigestSchedule:
    """When the staff digest goes out; `weekday` 0 is Monday, None means every day."""

    at: time
    weekday: int | None = None

    @property
    def period(self) -> timedelta:
        return timedelta(days=1 if self.weekday is None else 7)


def parse_digest(text: str) -> DigestSchedule | None:
    """``off``, ``daily 08:00`` or ``weekly mon 08:00``; raises ValueError otherwise."""
    parts = text.strip().lower().split()
    try:
        if parts == ["off"]:
            return None
        if len(parts) == 2 and parts[0] == "daily":
            return DigestSchedule(at=_local_time(parts[1]))
        if len(parts) == 3 and parts[0] == "weekly" and parts[1] in WEEKDAYS:
            return DigestSchedule(at=_local_time(parts[2]), weekday=WEEKDAYS.index(parts[1]))
    except ValueError:
        pass
    raise ValueError(
        operator_translator().gettext(
            "use 'off', 'daily 08:00' or 'weekly mon 08:00' (a time without an offset: "
            "FEEDBACKBOT_TIMEZONE gives the zone)"
        )
    )


def _local_time(text: str) -> time:
    at = time.fromisoformat(text)
    if at.tzinfo is not None:  # "08:00+05:00" would be silently read in TIMEZONE
        raise ValueError(text)
    return at


def read_staff_rules(path: Path) -> dict[str, str]:
    """The staff rules per language from a TOML file (``de = "..."``, ``en = "..."``)."""
    t = operator_translator()
    try:
        data = loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        reason = t.reason(error)
        raise ValueError(
            t.gettext("cannot read {path}: {reason}").format(path=path, reason=reason)
        ) from None
    rules = {
        k: v for k, v in data.items() if k in SUPPORTED_LOCALES and isinstance(v, str) and v.strip()
    }
    if not rules:
        raise ValueError(
            t.gettext('{path} needs the rules as de = "..." and/or en = "..."').format(path=path)
        )
    return rules


class ConfigurationError(Exception):
    """The configuration cannot be used; the message is one line for the operator, in
    their language."""

    @classmethod
    def missing(cls, names: list[str]) -> ConfigurationError:
        t = operator_translator()
        return cls(
            t.ngettext(
                "missing required setting: {names}",
                "missing required settings: {names}",
                len(names),
            ).format(names=", ".join(names))
        )


PREFIX = "FEEDBACKBOT_"
_BOT_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")


ENV_FILE = Path(".env")
"""The file of settings read beside the environment, in the working directory."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore"
    )
    _audit_retention_follows: bool = PrivateAttr(default=False)
    """FEEDBACKBOT_AUDIT_RETENTION unset: it follows the feedback's retention, a survey's
    own too (see bot.config.audit_kept)."""

    token: SecretStr | None = None
    api_base_url: str = DEFAULT_API_BASE_URL
    data_dir: Path = Path("./data")
    master_key: SecretStr | None = None
    master_key_file: Path | None = None
    staff_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    staff_thread_id: int | None = Field(default=None, gt=0)
    """The forum topic of the staff chat that alerts and digests go to (None: General)."""
    retention: timedelta = timedelta(days=180)
    purge_interval: timedelta = timedelta(hours=1)
    audit_retention: timedelta = AUDIT_RETENTION
    statistics_retention: timedelta | None = None
    """How long each day's counts are kept after that day (FEEDBACKBOT_STATISTICS_RETENTION);
    None (unset, empty or "off"): without a time limit. Never shorter than the retention:
    the counts of feedback still stored stay (see bot.config.statistics_before)."""
    consent_proof_retention: timedelta | None = None
    """How long proof of a person's consents is kept after their data went, erased by
    /delete or expired (FEEDBACKBOT_CONSENT_PROOF_RETENTION): to what, when and how they
    agreed, no answer; None (unset, empty or "off"): erased with everything else."""
    default_locale: str = "de"
    staff_locale: str | None = None
    """The language of what the bot posts in the staff chat (alerts, digests, their
    retraction notes) and of `feedbackbot summary` and `export` (FEEDBACKBOT_STAFF_LOCALE);
    FEEDBACKBOT_DEFAULT_LOCALE if unset. Staff's own commands are answered in theirs,
    else in this one."""
    controller_name: str | None = None
    controller_contact: str | None = None
    dpo_contact: str | None = None
    telegram_role: str = "messenger"
    """How the notices and the record describe Telegram's own role (FEEDBACKBOT_TELEGRAM_ROLE):
    "messenger" (the default: the messenger, its role left to the controller to assess),
    "controller" (a controller in its own right) or "joint" (jointly responsible, Art. 26
    GDPR); see flows.processing.TELEGRAM_ROLES."""
    support_contact: str | None = None
    """Where customers write about their feedback, as a reply to the bot reaches nobody
    (FEEDBACKBOT_SUPPORT_CONTACT); the controller's contact if unset."""
    flows_dir: Path | None = None
    shipped_flows: Annotated[tuple[str, ...] | None, NoDecode] = None
    """The shipped flows to load (FEEDBACKBOT_SHIPPED_FLOWS: ids, or "none"); all if unset."""
    # 1 would show single people's answers; above RATERS_KEPT summaries could not tell
    min_group_size: int = Field(default=5, ge=2, le=RATERS_KEPT)
    digest: str = "off"
    timezone: str = "Europe/Berlin"
    alert_threshold: int | None = Field(default=None, ge=0, le=10)
    feedback_limit: int | None = DEFAULT_FEEDBACK_LIMIT
    """At most this many feedbacks per person and survey in any 24 hours; None: no limit
    (FEEDBACKBOT_FEEDBACK_LIMIT=off or 0)."""
    staff_rules_file: Path | None = None
    recipients_file: Path | None = None
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator(
        "data_dir",
        "master_key_file",
        "flows_dir",
        "staff_rules_file",
        "recipients_file",
        mode="before",
    )
    @classmethod
    def _path(cls, value: Any, info: ValidationInfo) -> Any:
        """An empty value is no value (not the current folder); ``~`` is the home folder."""
        if isinstance(value, str):
            if not value.strip():
                return Path("./data") if info.field_name == "data_dir" else None
            return Path(value).expanduser()
        return value

    @field_validator("flows_dir")
    @classmethod
    def _flows_dir(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(
                operator_translator()
                .gettext("{path} is not a folder (of flow definitions)")
                .format(path=value)
            )
        return value

    @field_validator("shipped_flows", mode="before")
    @classmethod
    def _shipped(cls, value: Any) -> Any:
        """ "feedback,product", "product", "none" (or empty): which shipped flows to load."""
        if not isinstance(value, str):
            return value
        ids = tuple(part.strip().lower() for part in value.replace(";", ",").split(","))
        named = tuple(part for part in ids if part and part != "none")
        unknown = [part for part in named if part not in shipped_flow_ids()]
        if unknown:
            raise ValueError(
                operator_translator()
                .gettext("no shipped flow '{flow}': they are {shipped}, or none")
                .format(flow=unknown[0], shipped=", ".join(shipped_flow_ids()))
            )
        return named

    @field_validator("log_level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("api_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
        except ValueError as error:
            raise ValueError(
                operator_translator().gettext("not a URL: {reason}").format(reason=error)
            ) from None
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(
                operator_translator().gettext(
                    "must be an http:// or https:// URL, e.g. https://api.telegram.org/bot"
                )
            )
        if "{token}" not in value and not value.endswith("bot"):
            # The token is put right after it: "https://api.telegram.org" made a request to
            # the host "api.telegram.org123456" and the token's secret its port, printed in
            # the error (found by an operator walk-through).
            raise ValueError(
                operator_translator().gettext(
                    "must end with /bot, after which the token follows, e.g. "
                    "https://api.telegram.org/bot"
                )
            )
        return value

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, value: Any) -> Any:
        """Spaces and a line end around it (a secret mounted from a file) are let go; its
        form is checked by `require_for_run`, the one command that needs it."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        return value.strip() or None

    @field_validator("retention", "audit_retention", mode="before")
    @classmethod
    def _retention(cls, value: Any) -> timedelta:
        return retention_of(value)

    @field_validator("statistics_retention", "consent_proof_retention", mode="before")
    @classmethod
    def _statistics_retention(cls, value: Any) -> timedelta | None:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "off")):
            return None
        return retention_of(value)

    @field_validator("purge_interval", mode="before")
    @classmethod
    def _purge_interval(cls, value: Any) -> timedelta:
        t = operator_translator()
        try:
            interval = parse_duration(value)
        except NotPositive:
            raise ValueError(t.gettext("must be longer than zero")) from None
        except InvalidDuration:
            raise ValueError(
                t.gettext("'{value}' is not a duration; use e.g. 90d, 12h or P180D").format(
                    value=str(value)[:40]
                )
            ) from None
        if interval > LONGEST_PURGE_INTERVAL:
            # Expired data must not outlive its retention by more than a day.
            raise ValueError(t.gettext("at most 1 day (24h)"))
        return interval

    @field_validator("feedback_limit", mode="before")
    @classmethod
    def _feedback_limit(cls, value: Any) -> Any:
        """A whole number; ``off`` (or 0) turns the limit off. Empty is the default, as an
        empty FEEDBACKBOT_STAFF_LOCALE is (mutation audit: `FEEDBACKBOT_FEEDBACK_LIMIT=`
        left in a .env turned the limit off, where the README names only off and 0)."""
        if value is None:
            return None
        text = str(value).strip().lower()
        if not text:
            return DEFAULT_FEEDBACK_LIMIT
        if text in {"off", "0"}:
            return None
        t = operator_translator()
        try:
            number = int(text)
        except ValueError:
            raise ValueError(
                t.gettext(
                    "'{value}' is not a number of feedbacks; use e.g. 10, or off for no limit"
                ).format(value=str(value)[:40])
            ) from None
        if number < 0:
            raise ValueError(t.gettext("cannot be negative; use e.g. 10, or off for no limit"))
        return number or None  # "00", "+0": zero as well (review: `run` stopped with a traceback)

    @field_validator("staff_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            try:
                return frozenset(int(part) for part in parts if part)
            except ValueError:
                raise ValueError(
                    operator_translator().gettext(
                        "a list of Telegram user ids, separated by commas, e.g. 12345,67890"
                    )
                ) from None
        return value

    @field_validator("staff_ids")
    @classmethod
    def _user_ids(cls, value: frozenset[int]) -> frozenset[int]:
        if any(not 0 < n < _LARGEST_ID for n in value):
            raise ValueError(
                operator_translator().gettext(
                    "Telegram user ids are positive numbers (find yours with @userinfobot)"
                )
            )
        if shared := sorted(value & TELEGRAM_SERVICE_ACCOUNTS):
            raise ValueError(
                operator_translator()
                .gettext(
                    "{ids}: Telegram's own accounts, which stand for anyone writing anonymously "
                    "or as a channel, cannot be staff; list each member of staff's own id"
                )
                .format(ids=", ".join(map(str, shared)))
            )
        return value

    @field_validator("staff_chat_id")
    @classmethod
    def _chat_id(cls, value: int | None) -> int | None:
        if value is not None and not 0 < abs(value) < _LARGEST_ID:
            raise ValueError(
                operator_translator().gettext(
                    "not a Telegram chat id (a group's id is negative, e.g. -1001234567890)"
                )
            )
        return value

    @model_validator(mode="after")
    def _audit_outlasts_feedback(self) -> Settings:
        # The audit trail records, among others, deletion notices that could not be sent:
        # it must not go before the feedback they are about. Unset, it follows a longer
        # FEEDBACKBOT_RETENTION; set shorter, it is refused.
        if "audit_retention" not in self.model_fields_set:
            self.audit_retention = max(self.audit_retention, self.retention)
            self._audit_retention_follows = True  # (see bot.config.audit_kept)
        if self.audit_retention < self.retention:
            raise ValueError(
                operator_translator().gettext(
                    "FEEDBACKBOT_AUDIT_RETENTION must be at least FEEDBACKBOT_RETENTION: audit "
                    "entries about feedback must not go before the feedback"
                )
            )
        return self

    @model_validator(mode="after")
    def _statistics_outlast_feedback(self) -> Settings:
        if self.statistics_retention is not None and self.statistics_retention < self.retention:
            raise ValueError(
                operator_translator().gettext(
                    "FEEDBACKBOT_STATISTICS_RETENTION must be at least FEEDBACKBOT_RETENTION: "
                    "the counts of feedback still stored must not go before it"
                )
            )
        return self

    @model_validator(mode="after")
    def _staff_chat_for_what_goes_there(self) -> Settings:
        if self.staff_chat_id is not None:
            return self
        t = operator_translator()
        if self.staff_thread_id is not None:
            raise ValueError(
                t.gettext(
                    "FEEDBACKBOT_STAFF_THREAD_ID is set but FEEDBACKBOT_STAFF_CHAT_ID is not: "
                    "it names a topic of the staff chat"
                )
            )
        if self.digest_schedule is not None:
            raise ValueError(
                t.gettext(
                    "FEEDBACKBOT_DIGEST is set but FEEDBACKBOT_STAFF_CHAT_ID is not: the "
                    "digest would go nowhere"
                )
            )
        if self.alert_threshold is not None:
            raise ValueError(
                t.gettext(
                    "FEEDBACKBOT_ALERT_THRESHOLD is set but FEEDBACKBOT_STAFF_CHAT_ID is not: "
                    "the alerts would go nowhere"
                )
            )
        return self

    @field_validator("digest")
    @classmethod
    def _digest(cls, value: str) -> str:
        parse_digest(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                operator_translator()
                .gettext("unknown time zone {zone}, e.g. Europe/Berlin")
                .format(zone=repr(value))
            ) from None
        return value

    @field_validator("staff_rules_file")
    @classmethod
    def _rules_file(cls, value: Path | None) -> Path | None:
        if value is not None:
            read_staff_rules(value)
        return value

    @model_validator(mode="after")
    def _rules_in_the_staff_language(self) -> Settings:
        # Found by an English-speaking team's review: rules written in German only were
        # shown to staff reading English, who confirmed them (audited) under an English
        # "I confirm". Only where FEEDBACKBOT_STAFF_LOCALE is set: unset, staff each read
        # their own language, and a file that served them before keeps serving.
        if self.staff_locale is None or self.staff_rules_file is None:
            return self
        if self.staff_locale not in read_staff_rules(self.staff_rules_file):
            raise ValueError(
                operator_translator()
                .gettext(
                    "FEEDBACKBOT_STAFF_RULES_FILE has no rules in {language}, the language of "
                    "FEEDBACKBOT_STAFF_LOCALE: staff would confirm rules they may not read; add "
                    '{language} = "..." to {path}'
                )
                .format(language=self.staff_locale, path=self.staff_rules_file)
            )
        return self

    @property
    def audit_retention_follows(self) -> bool:
        """Whether FEEDBACKBOT_AUDIT_RETENTION was left unset, so that it follows how long
        feedback is kept (see bot.config.audit_kept)."""
        return self._audit_retention_follows

    @property
    def staff_rules(self) -> dict[str, str] | None:
        return None if self.staff_rules_file is None else read_staff_rules(self.staff_rules_file)

    @property
    def digest_schedule(self) -> DigestSchedule | None:
        return parse_digest(self.digest)

    @property
    def staff_language(self) -> str:
        return self.staff_locale or self.default_locale

    @field_validator("staff_locale", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_role", mode="before")
    @classmethod
    def _telegram_role(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        role = value.strip().lower() or "messenger"
        if role not in TELEGRAM_ROLES:
            raise ValueError(
                operator_translator()
                .gettext("must be one of {values}")
                .format(values=", ".join(TELEGRAM_ROLES))
            )
        return role

    @field_validator("default_locale", "staff_locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORTED_LOCALES:
            raise ValueError(
                operator_translator()
                .gettext("must be one of {values}")
                .format(values=", ".join(SUPPORTED_LOCALES))
            )
        return value

    @field_validator(
        "controller_name", "controller_contact", "dpo_contact", "support_contact", mode="before"
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    def missing_for_run(self) -> list[str]:
        """The settings that `run` needs and these lack, by their variables' names."""
        return [
            f"FEEDBACKBOT_{name.upper()}"
            for name in ("token", "controller_name", "controller_contact")
            if getattr(self, name) is None
        ]

    def require_for_run(self) -> None:
        """Raise ConfigurationError naming every setting that `run` needs but lacks."""
        missing = self.missing_for_run()
        if missing:
            raise ConfigurationError.missing(missing)
        assert self.token is not None
        if self.token_malformed():
            # Said before a store is made, and without asking Telegram, whose answer to a
            # malformed token is a network error; never the token itself, even mistyped.
            t = operator_translator()
            raise ConfigurationError(
                t.gettext("invalid configuration: {problems}").format(
                    problems="FEEDBACKBOT_TOKEN: " + t.gettext(MALFORMED_TOKEN)
                )
            )

    def token_malformed(self) -> bool:
        """Whether a token is set that is none as @BotFather gives them (`run` refuses it)."""
        return self.token is not None and not _BOT_TOKEN.fullmatch(self.token.get_secret_value())


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; raises ConfigurationError with one line per problem joined by '; '.
    A FEEDBACKBOT_ name that is no setting (a typo) is said on stderr: it is ignored."""
    try:
        settings = Settings(**overrides)
    except UnicodeDecodeError as error:  # reading .env
        t = operator_translator()
        raise ConfigurationError(
            t.gettext("the .env file is not UTF-8 text ({reason})").format(reason=error.reason)
        ) from None
    except ValidationError as error:
        _say_unknown(overrides)  # a misspelt name may be why a setting is missing
        t = operator_translator()
        problems = "; ".join(
            f"FEEDBACKBOT_{'_'.join(str(p) for p in e['loc']).upper()}: {_reason(e)}"
            if e["loc"]
            else _reason(e)  # about several settings together; the message names them
            for e in error.errors()
        )
        raise ConfigurationError(
            t.gettext("invalid configuration: {problems}").format(problems=problems)
        ) from None
    _say_unknown(overrides)
    return settings


def _say_unknown(overrides: Mapping[str, Any]) -> None:
    """Name each FEEDBACKBOT_ name that is no setting, and each line of the .env file that
    is no setting at all, on stderr, once per process."""
    env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
    if env_file:
        _say_unparsable(Path(env_file))
    for name, meant in unknown_settings(os.environ, Path(env_file) if env_file else None):
        if name in _SAID_UNKNOWN:  # settings read twice (the chat): said once
            continue
        _SAID_UNKNOWN.add(name)
        t = operator_translator()
        said = t.gettext("{name} is not a setting and is ignored").format(name=name)
        if meant:
            said += "; " + t.gettext("did you mean {name}?").format(name=meant)
        print(f"feedbackbot: {said}", file=sys.stderr)


_SAID_UNKNOWN: set[str] = set()


def unknown_said_elsewhere() -> list[tuple[str, str | None]]:
    """The names `_say_unknown` would say on stderr, marked said: for `check`, which counts
    them among its findings instead."""
    env_file = Settings.model_config.get("env_file")
    found = unknown_settings(
        os.environ, Path(env_file) if isinstance(env_file, str | Path) else None
    )
    _SAID_UNKNOWN.update(name for name, _ in found)
    return found


# python-dotenv says "could not parse statement" in English, once per reading (twice per
# start): said here instead, translated and once (found by an operator audit).
logging.getLogger("dotenv.main").setLevel(logging.ERROR)


def _say_unparsable(env_file: Path) -> None:
    try:
        with env_file.open(encoding="utf-8") as lines:
            broken = [b.original.line for b in parse_stream(lines) if b.error]
    except (OSError, UnicodeDecodeError):
        return  # reading it for the settings says what is wrong
    for line in broken:
        if (env_file, line) in _SAID_UNPARSABLE:
            continue
        _SAID_UNPARSABLE.add((env_file, line))
        t = operator_translator()
        said = t.gettext("line {line} of {file} is not NAME=value and is ignored")
        print(f"feedbackbot: {said.format(line=line, file=env_file)}", file=sys.stderr)


_SAID_UNPARSABLE: set[tuple[Path, int]] = set()


ENV_FILE_SECRETS = (f"{PREFIX}MASTER_KEY", f"{PREFIX}TOKEN")


def overridden_in_env_file(env_file: Path = ENV_FILE) -> list[str]:
    """The settings `env_file` sets that the environment sets too, to another value: the
    environment's is used (found by an operator walk-through: 30d in the shell, 90d in
    .env, and the notices said 30 days without a word)."""
    try:
        values = dotenv_values(env_file) if env_file.is_file() else {}
    except (OSError, UnicodeDecodeError):
        return []
    return sorted(
        name
        for name, value in values.items()
        if name.upper().startswith(PREFIX)
        and name in os.environ
        and value is not None
        and os.environ[name] != value
    )


def env_file_secrets_open_to_others(env_file: Path = ENV_FILE) -> tuple[int, list[str]]:
    """The mode of `env_file` and the secrets it holds, where others than its owner may read
    or change it; (0, []) otherwise. A key file so open is refused a quiet start (chmod 600
    it); a .env holding the master key was read without a word (found by an operator
    review). An execute bit alone gives nobody anything."""
    try:
        mode = stat.S_IMODE(env_file.stat().st_mode)
        if not mode & OPEN_TO_OTHERS:
            return 0, []
        values = dotenv_values(env_file)
    except (OSError, UnicodeDecodeError):
        return 0, []
    held = {name.upper() for name, value in values.items() if value and value.strip()}
    return mode, [name for name in ENV_FILE_SECRETS if name in held]


def unknown_settings(
    environ: Mapping[str, str], env_file: Path | None
) -> list[tuple[str, str | None]]:
    """FEEDBACKBOT_ names in the environment or the .env file that are no setting, each
    with the setting it most likely means (FEEDBACKBOT_RETENTON: FEEDBACKBOT_RETENTION)."""
    known = {f"{PREFIX}{name.upper()}" for name in Settings.model_fields}
    names = set(environ)
    if env_file is not None and env_file.is_file():
        try:
            names |= set(dotenv_values(env_file))
        except (OSError, UnicodeDecodeError):
            pass  # reading it for the settings said what is wrong
    given = sorted(n for n in names if n.upper().startswith(PREFIX) and n.upper() not in known)
    return [(name, _meant_setting(name)) for name in given]


# Names other bots' settings use for ours (found by reading `check` as a new operator:
# FEEDBACKBOT_LANGUAGE was "did you mean FEEDBACKBOT_DIGEST?", the shared prefix making
# any name look near one: LANG and TZ were TOKEN).
_SETTING_ALIASES = {
    **dict.fromkeys(
        ("LANGUAGE", "LANG", "LOCALE", "SPRACHE", "DEFAULT_LANGUAGE"), "DEFAULT_LOCALE"
    ),
    **dict.fromkeys(("ADMIN_LANGUAGE", "STAFF_LANGUAGE", "ADMIN_LOCALE"), "STAFF_LOCALE"),
    **dict.fromkeys(("TZ", "TIME_ZONE", "ZEITZONE", "STAFF_TZ"), "TIMEZONE"),
    **dict.fromkeys(
        ("ADMIN_IDS", "ADMINS_IDS", "ADMINS", "ADMIN_ID", "STAFF", "STAFF_ID"), "STAFF_IDS"
    ),
    **dict.fromkeys(
        ("ADMIN_CHAT", "ADMIN_CHAT_ID", "GROUP_ID", "CHAT_ID", "STAFF_GROUP", "STAFF_GROUP_ID"),
        "STAFF_CHAT_ID",
    ),
    **dict.fromkeys(("BOT_TOKEN", "TELEGRAM_TOKEN", "TELEGRAM_BOT_TOKEN", "API_TOKEN"), "TOKEN"),
    **dict.fromkeys(("KEY", "MASTERKEY", "SECRET_KEY"), "MASTER_KEY"),
    **dict.fromkeys(("KEY_FILE", "MASTERKEY_FILE", "SECRET_KEY_FILE"), "MASTER_KEY_FILE"),
    **dict.fromkeys(("DPO", "DATENSCHUTZ", "DPO_EMAIL", "DPO_MAIL"), "DPO_CONTACT"),
    **dict.fromkeys(("API_URL", "TELEGRAM_API_URL", "BASE_URL"), "API_BASE_URL"),
    **dict.fromkeys(("DIR", "DATA", "DATA_PATH"), "DATA_DIR"),
    **dict.fromkeys(("RATE_LIMIT", "LIMIT"), "FEEDBACK_LIMIT"),
    **dict.fromkeys(("TELEGRAM_ROLLE", "MESSENGER_ROLE"), "TELEGRAM_ROLE"),
}


def _meant_setting(name: str) -> str | None:
    """The setting a FEEDBACKBOT_ name that is none most likely means, by what follows the
    prefix (see _SETTING_ALIASES); None where none is near."""
    typed = name.upper().removeprefix(PREFIX)
    known = [name.upper() for name in Settings.model_fields]
    begun = [setting for setting in known if setting.startswith(f"{typed}_")]  # "LOG", "PURGE"
    meant = (
        _SETTING_ALIASES.get(typed)
        or next(iter(get_close_matches(typed, known, n=1)), None)
        or (begun[0] if len(begun) == 1 else None)
    )
    return None if meant is None else f"{PREFIX}{meant}"


PYDANTIC_REASONS = {
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than_equal": N_("must be at most {le}"),
    "string_pattern_mismatch": N_("is not one of the accepted values: {values}"),
    "not_positive": N_("must be longer than zero"),
    "duration": N_("'{value}' is not a duration; use e.g. 90d, 12h or P180D"),
    "retention_too_long": N_("a retention can be at most {days} days"),
}
"""pydantic's (and flows.models') words for a wrong value, in the operator's language; our
own validators raise theirs translated already."""


def _reason(error: Any) -> str:
    reason = PYDANTIC_REASONS.get(str(error["type"]))
    if reason is not None:
        context = dict(error.get("ctx", {}))
        if "pattern" in context:  # "^(DEBUG|INFO|WARNING|ERROR)$": say which they are
            context["values"] = ", ".join(context["pattern"].strip("^$()").split("|"))
        t = operator_translator()
        said = t.gettext(reason).format(**context)
        if error["type"] == "duration" and (days := in_days(str(context.get("value")))):
            # "6 Monate", "P6M" (found by a re-check of the hints: only the examples)
            said += ". " + t.gettext('For “{value}” write "{days}d".').format(
                value=str(context.get("value")).strip(), days=days
            )
        return said
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
