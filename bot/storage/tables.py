"""The schema, as SQLAlchemy Core tables. Migrations under `migrations/` create and evolve it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

from bot.storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Telegram users the bot has met. Ids exceed 2^31: BigInteger everywhere a Telegram id is kept.
users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_name", String(128), nullable=False, default=""),
    Column("username", String(64)),
    Column("language_code", String(16)),
    Column("phone", String(20)),
    Column("role", String(16)),  # admin / supervisor / staff / manager; NULL for citizens
    Column("pending_input", String(32)),  # the citizen's current focus: bot.domain.pending
    Column("pending_at", UTCDateTime),  # when they chose it
    Column("blocked_bot", Boolean, nullable=False, default=False),
    Column("banned", Boolean, nullable=False, default=False, server_default=false()),
    Column("ban_reason", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Specialised units a case can be referred to; each may have a chat of its own.
units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(32), nullable=False),
    Column("name", String(160), nullable=False),
    Column("chat_id", BigInteger),
    Column("thread_id", BigInteger),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("code"),
)

# The citizen's rating of how their case was handled (one per case; a reopen keeps history).
ratings = Table(
    "ratings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("citizen_id", BigInteger, nullable=False),
    Column("score", Integer, nullable=False),
    Column("comment", Text),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id"),
    Index(None, "created_at"),
)

# Updates already handled, so an update delivered twice changes nothing the second time.
processed_updates = Table(
    "processed_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
)

# Updates as Telegram delivered them, committed before Telegram is told they arrived (the offset
# confirmed, the webhook answered 200): workers in any process take each sender's oldest unhandled
# row under a lease, so one sender's updates run one at a time and in update_id order.
inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("lane_key", BigInteger, nullable=False),  # the sender (or chat): the unit of order
    Column("payload", JSON, nullable=False),  # the update's raw JSON
    # The flood guard let this one in as the sender's warning: it gets that instead of handlers.
    Column("flood_warning", Boolean, nullable=False, default=False, server_default=false()),
    Column("received_at", UTCDateTime, nullable=False),
    Column("lease_holder", String(96)),  # the worker handling it now
    Column("lease_until", UTCDateTime),  # after this, another worker may take it over
    Column("handled_at", UTCDateTime),
    Index(None, "handled_at", "update_id"),  # the unhandled rows in order; the sweep
    Index(None, "lane_key", "handled_at", "update_id"),  # a lane's head
)

# One open draft per user and kind: the step they are on and every answer given so far. A desk
# member registering a phone call has a draft of kind "call", apart from the complaint they may
# be filing for themselves (kind "complaint"): bot.domain.complaint.DraftKind.
drafts = Table(
    "drafts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False, default="complaint", server_default="complaint"),
    Column("step", String(32), nullable=False),
    Column("edit_group", String(32)),  # set while the citizen edits one part from the review
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "kind"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(10), nullable=False),
    # The citizen's Telegram id; NULL for a case that came another way (a call, the web desk)
    # until the citizen links it to their chat (with the code and their phone).
    Column("citizen_id", BigInteger, ForeignKey("users.id")),
    # How it came in (bot.domain.channels.Channel) and the desk member who registered it (NULL
    # when the citizen filed it themselves).
    Column("channel", String(16), nullable=False, default="chat", server_default="chat"),
    Column("taken_by", BigInteger, ForeignKey("users.id")),
    Column("status", String(24), nullable=False),
    Column("violation", String(32), nullable=False),
    Column("sector", String(32), nullable=False),
    Column("province", String(4), nullable=False),
    Column("city", String(80), nullable=False),
    Column("business", String(160), nullable=False),
    Column("business_key", String(160), nullable=False),  # normalised, lower-cased: for search
    Column("address", String(400), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("description", Text, nullable=False),
    # bot.text.search_text(business, description), written with them: /find reads this, through
    # the trigram index (SQLite: the FTS5 table SEARCH_FTS; PostgreSQL: SEARCH_TRGM_INDEX).
    Column("search_text", Text, nullable=False, default="", server_default=""),
    Column("price_paid", BigInteger),  # rials
    Column("price_fair", BigInteger),  # rials
    # The citizen's (or caller's) number, +98…; NULL: they chose to stay anonymous. Personal
    # data: shown only to the holder and supervisors.
    Column("contact_phone", String(20)),
    Column("caller_name", String(120)),  # as the operator typed it; NULL: not given, or chat
    Column("urgent", Boolean, nullable=False, default=False),
    Column("holder_id", BigInteger, ForeignKey("users.id")),
    Column("unit_id", Integer, ForeignKey("units.id")),
    Column("merged_into", Integer, ForeignKey("cases.id")),
    Column("asked_from", String(24)),  # while awaiting_citizen: the status the answer returns to
    Column("outcome", String(32)),  # why it was resolved / rejected, for the citizen and reports
    Column("media_url", String(2048)),  # a web request's picture: kept as given, never fetched
    Column("api_key", String(64)),  # a web request's: the name of the key that filed it
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime),
    Column("referred_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    UniqueConstraint("code"),
    Index(None, "citizen_id", "created_at"),
    Index(None, "status", "created_at"),
    Index(None, "created_at"),
    # The duplicates check reads the open cases of a business, or open cases near a place:
    # with the status in the index it reads those, not every case the business or the
    # latitude band ever had (migration 0016; the business-only index was its prefix).
    Index(None, "business_key", "status"),
    Index(None, "status", "latitude", "longitude"),
    Index(None, "merged_into"),  # a card lists the supporting reports merged into its case
    Index(None, "holder_id", "status"),
    Index(None, "resolved_at"),
    Index(None, "api_key", "created_at"),  # what a key reads back (migration 0018)
    Index(
        "ix_cases_search_text_trgm",
        "search_text",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql"),
)
# SQLite's index behind /find: an FTS5 table (trigram tokenizer) over `cases.search_text`, its
# content read from `cases` and kept in step by triggers (migration 0016). Not in `metadata`:
# SQLAlchemy has no virtual tables. A batch migration that rebuilds `cases` on SQLite drops
# the triggers and must create them again (`bot.storage.search.create_fts`).
SEARCH_FTS = "cases_fts"
SEARCH_TRGM_INDEX = "ix_cases_search_text_trgm"

# The audit trail: one row per thing that happened to a case, status change or not.
case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),  # NULL for the system
    Column("action", String(32), nullable=False),
    Column("from_status", String(24)),
    Column("to_status", String(24)),
    Column("note", Text),
    Column("public", Boolean, nullable=False, default=True),  # shown on the citizen's timeline
    Index(None, "case_id", "at"),
    Index(None, "at"),  # reports read a period's events: cost follows the period, not history
)

# Evidence: Telegram keeps the files; we keep ids. A row belongs to a draft, then to its case.
attachments = Table(
    "attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("draft_id", Integer, ForeignKey("drafts.id", ondelete="CASCADE")),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE")),
    Column("kind", String(16), nullable=False),  # photo / document / video
    Column("file_id", String(255), nullable=False),
    Column("file_unique_id", String(64), nullable=False),
    Column("file_name", String(255)),
    Column("mime_type", String(128)),
    Column("file_size", BigInteger),
    Column("media_group_id", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("draft_id", "file_unique_id"),
    Index(None, "case_id"),
)

# Messages to chats other than the one being answered, written in the same transaction as the
# change that caused them and delivered by the outbox worker.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("method", String(32), nullable=False),  # Bot API method, e.g. sendMessage
    Column("payload", JSON, nullable=False),  # its parameters except chat_id
    Column("purpose", String(32), nullable=False),  # e.g. case_card, citizen_notice
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="SET NULL")),
    Column("status", String(16), nullable=False, default="pending"),  # pending/sent/failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("last_error", Text),
    Column("result_message_id", BigInteger),
    # Of a message sent as several (a long text, a caption moved to a follow-up): how many went
    # out, so that a retry resumes with the next one instead of repeating them.
    Column("parts_sent", Integer, nullable=False, default=0, server_default="0"),
    # The worker sending it now, until when: a lane's head is taken by one worker of any
    # process, and taken over once the lease of a worker that died has run out.
    Column("lease_holder", String(96)),
    Column("lease_until", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
    Index(None, "chat_id", "status", "id"),  # a chat's lane: its oldest pending row
    Index(None, "status", "sent_at"),  # the sweep: what was sent longest ago
)

# A citizen's message that could be meant for more than one open thing (an officer's question,
# a rating comment, the complaint being filed…): kept until the citizen says which, never lost.
held_inputs = Table(
    "held_inputs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text),  # typed text, or a file's caption
    Column("attachment", JSON),  # a file: the fields of bot.services.filing.Attachment
    Column("chat_id", BigInteger, nullable=False),  # where the message is, to copy it to staff
    Column("message_id", BigInteger, nullable=False),
    Column("media_group_id", String(64)),  # an album's items are routed together
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "user_id", "id"),
)

# Where the bot posted a case's card, so later changes edit it in place.
case_messages = Table(
    "case_messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("content_hash", String(64)),  # of the text and buttons shown: skip identical edits
    UniqueConstraint("case_id", "chat_id", "purpose"),
)

# A question the bot asked a staff member with ForceReply: their reply is the answer.
staff_prompts = Table(
    "staff_prompts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("chat_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(32), nullable=False),
    Column("extra", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("chat_id", "message_id"),
)


# Scheduled pushes already made: one row per (kind, period), so a restart neither repeats a
# push nor skips one that fell while the bot was down.
scheduled_pushes = Table(
    "scheduled_pushes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("period_key", String(32), nullable=False),
    Column("slot_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "period_key"),
)


# Spikes already alerted: one row per (kind, key, window bucket), written in the same transaction
# as the managers' messages, so each spike is pushed once per window whatever runs the check.
spike_alerts = Table(
    "spike_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # business / province
    Column("spike_key", String(200), nullable=False),  # business_key, or "violation:province"
    Column("bucket", BigInteger, nullable=False),  # window number: epoch seconds // window
    Column("case_count", Integer, nullable=False),
    Column("newest_case_id", Integer, nullable=False),  # a later window re-alerts only past it
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "spike_key", "bucket"),
)

# SLA alerts already made: one row per (case, kind, the event that started the clock), so a
# case is re-announced or escalated once per threshold crossing, not every minute.
sla_alerts = Table(
    "sla_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(24), nullable=False),  # unclaimed / referral_remind / referral_escalate
    Column("since_event_id", Integer, nullable=False),
    Column("working_seconds", Integer, nullable=False),  # the working age when alerted
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("case_id", "kind", "since_event_id"),
)

# A group upgraded to a supergroup gets a new id: messages for the old one go to the new one.
chat_moves = Table(
    "chat_moves",
    metadata,
    Column("old_chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("new_chat_id", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# Keys of the systems that call the Open311 API (the web desk…): only a SHA-256 of each is kept,
# so the database never holds a usable key. A revoked key stays, for the audit trail's names.
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    UniqueConstraint("name"),
    UniqueConstraint("key_hash"),
)

# One row per Open311 API request with a valid key, unless refused for its rate (rows of
# releases before: NULL, none or not valid): what, and the answer; swept after
# OPEN311_AUDIT_DAYS. The path only: a query string may carry the key itself.
api_requests = Table(
    "api_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key_name", String(64)),
    Column("method", String(8), nullable=False),
    Column("path", String(200), nullable=False),
    Column("status", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "at"),
)

# Who runs each scheduled job: one process at a time, so that with several processes a summary or
# an alert sweep runs once. The holder renews at every run; a dead holder's lease runs out
# LEASE_SECONDS after the run it missed, and the next process to try takes it over.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(96), nullable=False),
    Column("until", UTCDateTime, nullable=False),
)

# Long work (an export, a report) as a row any process's runner may take, never done inside the
# update that asked for it (bot.services.jobs). A runner holds a job under a lease it renews
# while the work runs; a job whose holder died is taken over once the lease has run out, and
# done again from the start. Queued, and waiting for a retry, a job may hold a lease too: until
# then nobody takes it (the handler's, while it posts the status message; a retry's backoff).
work_jobs = Table(
    "work_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # bot.domain.jobs.JobKind
    Column("requested_by", BigInteger, nullable=False),  # the asker's user id
    Column("chat_id", BigInteger, nullable=False),  # where the result goes
    # The message that asked (a group's, or the private chat's): where «sent to your private
    # chat» replies, in its topic.
    Column("origin_chat_id", BigInteger),
    Column("origin_message_id", BigInteger),
    Column("origin_thread_id", BigInteger),
    Column("params", JSON, nullable=False),  # bot.domain.jobs.ExportParams / ReportParams
    Column("status", String(16), nullable=False),  # bot.domain.jobs.JobStatus
    Column("status_message_id", BigInteger),  # the message edited with the progress
    Column("attempts", Integer, nullable=False, default=0, server_default="0"),
    Column("lease_holder", String(96)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("error", Text),
    Index(None, "status", "lease_until"),  # what a runner may take
    Index(None, "finished_at"),  # the sweep
    # One open job per person and kind, whichever process queued it.
    Index(
        "uq_work_jobs_open",
        "requested_by",
        "kind",
        unique=True,
        sqlite_where=text("status IN ('queued', 'running')"),
        postgresql_where=text("status IN ('queued', 'running')"),
    ),
)

# What kind of chat an id is ("private", "group", "supergroup", "channel"), as the messenger
# said in an update or in the answer to a message the bot sent. Pacing and delivery tell
# groups from private chats by this, never by the id's sign (Bale's ids have no fixed shape).
chat_kinds = Table(
    "chat_kinds",
    metadata,
    Column("chat_id", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)
