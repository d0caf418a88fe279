"""Synthetic enterprises: realistic, seeded inventories of any size, for tests and benchmarks.

:func:`generate_enterprise` builds an inventory as plain data (file name ->
YAML-able mapping, or rows for the ``datasets.csv`` table) and
:func:`write_enterprise` writes it as an inventory directory that
:func:`blastradius.load_inventory` accepts::

    teams.yaml            departments and teams; headcounts sum to ``people``
    systems.yaml          systems of record (crm, warehouse, email ...) with their people groups
    datasets.csv          every table: records (skewed; a few unknown), classification, columns
    connectors.yaml       connectors with their tools, scope, audit, revocation, approval
    governance.yaml       the governance config (D7): review tiers, prohibited uses, some connectors
    plugins/<dept>.yaml   plugins, one file per owning department

The structure follows what real rollouts look like: departments of teams,
systems of a dozen kinds whose tables hold a few hundred-million-row tables
and many small ones, a broadly scoped connector per system next to
department-scoped ones, popular shared connectors used across departments
(mega-connectors), and plugins that gate some high-impact actions and not
others. The usual governance pitfalls (DOMAIN.md D8) are planted in
proportion, so :func:`blastradius.rules.lint` has something to find.

Everything random is drawn from one generator, made once from ``seed`` with
:func:`numpy.random.default_rng`: the same seed gives byte-identical files.

Examples
--------
>>> data = generate_enterprise(people=120, plugins=3, connectors=4, systems=3, datasets=12, seed=1)
>>> sorted(data)[:3]
['connectors.yaml', 'datasets.csv', 'governance.yaml']
>>> sum(t["headcount"] for t in data["teams.yaml"]["teams"])
120
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from blastradius.domain import is_high_impact_action
from blastradius.errors import BlastRadiusError
from blastradius.model import HIGH_IMPACT_ACTIONS, ActionClass

__all__ = [
    "AS_OF",
    "DATASET_COLUMNS",
    "SIZES",
    "generate_enterprise",
    "write_enterprise",
]

#: Date the synthetic inventory is "written" on: approvals and rehearsals are dated relative to it.
AS_OF = dt.date(2026, 11, 21)

#: Columns of the generated ``datasets.csv``, in order.
DATASET_COLUMNS = ("id", "system", "table", "records", "classification", "columns")

#: Preset sizes (keyword arguments of :func:`generate_enterprise`). ``example`` is None: use the
#: hand-written ``inventories/acme`` instead of a synthetic one.
SIZES: Mapping[str, Mapping[str, int] | None] = {
    "example": None,
    "small": {"people": 400, "plugins": 8, "connectors": 6, "systems": 5, "datasets": 40},
    "medium": {"people": 3_000, "plugins": 60, "connectors": 25, "systems": 12, "datasets": 200},
    "large": {"people": 50_000, "plugins": 2_000, "connectors": 500, "systems": 300, "datasets": 20_000},
}

_MIN_PEOPLE = 10


# ---------------------------------------------------------------------------
# Templates: what systems of each kind hold and expose
# ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Table:
    name: str
    log10_records: float  # median size, as a power of ten
    columns: str  # "name:classification;..." as in the CSV
    people: tuple[str, str] | None = None  # (group label, PeopleKind) of the people whose records it holds
    classification: str | None = None
    copy_weight: float = 1.0  # how often further tables of the system are copies of this one
    unknown: bool = False  # its size is not known (on purpose)
    per_person: float | None = None  # records scale with the company's headcount


@dataclass(frozen=True, kw_only=True)
class _Tool:
    name: str
    action: str
    fan_out: int = 1
    reversibility: str | None = None
    targets: tuple[str, ...] = ()  # table names, or "@label" for a people group of the system
    untrusted: bool = False
    leaves_org: bool | None = None
    description: str | None = None


@dataclass(frozen=True, kw_only=True)
class _Kind:
    kind: str
    vendors: tuple[str, ...]
    tables: tuple[_Table, ...]
    tools: tuple[_Tool, ...]
    weight: float  # frequency among systems beyond the core set
    pull: float  # how many connectors a system of this kind attracts
    approvers: tuple[str, ...]
    leaves_org: bool = False
    extra_people: tuple[tuple[str, str], ...] = ()  # groups not tied to a table: size unknown


T, W = _Table, _Tool
_KINDS: dict[str, _Kind] = {
    k.kind: k
    for k in (
        _Kind(
            kind="crm",
            vendors=("salesforce", "hubspot", "dynamics"),
            weight=1.0,
            pull=3.0,
            approvers=("VP Ops", "Revenue Operations", "VP Sales"),
            tables=(
                T(
                    name="accounts",
                    log10_records=4.7,
                    columns="account_name:internal;industry:internal;billing_address:confidential;annual_revenue:financial;owner:internal",
                ),
                T(
                    name="contacts",
                    log10_records=5.3,
                    people=("customers", "customers"),
                    columns="full_name:pii;email:pii;phone:pii;personal_mobile:pii;date_of_birth:pii;title:internal;account_id:internal",
                ),
                T(
                    name="leads",
                    log10_records=5.7,
                    people=("leads", "contacts"),
                    columns="full_name:pii;email:pii;phone:pii;company:internal;lead_source:internal;score:internal",
                ),
                T(
                    name="opportunities",
                    log10_records=5.0,
                    columns="name:internal;amount:financial;stage:internal;close_date:internal;discount_pct:confidential",
                ),
                T(
                    name="activities",
                    log10_records=6.7,
                    columns="subject:internal;notes:confidential;contact_id:internal;owner:internal",
                ),
                T(
                    name="cases",
                    log10_records=5.5,
                    columns="case_id:internal;subject:internal;description:confidential;contact_email:pii",
                ),
            ),
            tools=(
                W(name="search_contacts", action="read", fan_out=200, targets=("contacts",)),
                W(name="get_account", action="read", targets=("accounts", "opportunities")),
                W(name="search_leads", action="read", fan_out=200, targets=("leads",)),
                W(name="update_opportunity", action="write", targets=("opportunities",)),
                W(name="update_contact", action="write", targets=("contacts",)),
                W(
                    name="bulk_update_contacts",
                    action="write",
                    fan_out=5000,
                    targets=("contacts", "leads"),
                    description="Apply one field change to every contact or lead matching a filter.",
                ),
                W(name="delete_contact", action="delete", reversibility="soft-delete", targets=("contacts",)),
                W(
                    name="mass_delete_records",
                    action="delete",
                    fan_out=10000,
                    reversibility="immediate",
                    targets=("contacts", "leads", "accounts", "activities"),
                    description="Hard-delete every record matching a filter, bypassing the recycle bin.",
                ),
                W(name="export_report", action="read", fan_out=50000, description="Export a saved report as CSV."),
            ),
        ),
        _Kind(
            kind="warehouse",
            vendors=("snowflake", "bigquery", "redshift", "databricks"),
            weight=1.2,
            pull=3.0,
            approvers=("Data Platform Lead", "CDO", "CFO"),
            tables=(
                T(
                    name="deals",
                    log10_records=6.1,
                    classification="financial",
                    columns="deal_id:internal;account_id:internal;amount:financial;stage:internal;region:internal",
                ),
                T(
                    name="payroll",
                    log10_records=4.9,
                    classification="confidential",
                    people=("employees", "employees"),
                    per_person=24.0,
                    columns="employee_id:internal;ssn:pii;bank_account:financial;comp_individual:financial;net_pay:financial;home_address:pii",
                ),
                T(
                    name="customers_360",
                    log10_records=5.3,
                    people=("customers", "customers"),
                    columns="customer_id:internal;full_name:pii;email:pii;lifetime_value:financial;churn_score:confidential;segment:internal",
                ),
                T(
                    name="web_events",
                    log10_records=8.6,
                    columns="session_id:internal;ip_address:pii;page_url:public;user_agent:internal",
                ),
                T(
                    name="gl_entries",
                    log10_records=7.2,
                    classification="financial",
                    columns="entry_id:internal;account:internal;amount:financial;vendor_id:internal;memo:confidential",
                ),
                T(
                    name="integration_credentials",
                    log10_records=2.5,
                    classification="credentials",
                    copy_weight=0.03,
                    columns="service:internal;api_key:credentials;owner:internal",
                ),
                T(
                    name="forecasts",
                    log10_records=4.5,
                    columns="region:internal;quarter:internal;forecast_amount:financial;commit_amount:financial",
                ),
                T(
                    name="product_usage",
                    log10_records=8.1,
                    columns="account_id:internal;feature:internal;events:internal;day:internal",
                ),
                T(
                    name="support_history",
                    log10_records=6.4,
                    columns="ticket_id:internal;requester_email:pii;body:confidential;csat:internal",
                ),
                T(
                    name="campaign_performance",
                    log10_records=5.2,
                    columns="campaign:internal;channel:internal;spend:financial;conversions:internal",
                ),
                T(
                    name="regions",
                    log10_records=1.7,
                    columns="region:internal;territory_owner:internal;quota:financial",
                ),
            ),
            tools=(
                W(name="run_sql", action="read", fan_out=1_000_000, description="Run a read-only SQL query."),
                W(name="list_tables", action="read"),
                W(
                    name="run_dml",
                    action="write",
                    fan_out=1_000_000,
                    description="Run INSERT, UPDATE or DELETE statements.",
                ),
                W(
                    name="export_query_results",
                    action="share",
                    fan_out=1000,
                    leaves_org=True,
                    description="Unload query results to an external bucket and return a signed link.",
                ),
            ),
        ),
        _Kind(
            kind="email",
            vendors=("m365", "google-workspace"),
            weight=0.3,
            pull=2.5,
            approvers=("IT Director", "CIO"),
            extra_people=(("external-correspondents", "contacts"),),
            tables=(
                T(
                    name="messages",
                    log10_records=7.8,
                    columns="subject:internal;body:confidential;sender:pii;recipients:pii",
                ),
                T(
                    name="distribution_lists",
                    log10_records=3.6,
                    people=("mailing-list", "contacts"),
                    columns="list:internal;member_email:pii",
                ),
                T(name="calendar_events", log10_records=6.4, columns="title:internal;attendees:pii;location:internal"),
            ),
            tools=(
                W(
                    name="search_mailbox",
                    action="read",
                    fan_out=100,
                    targets=("messages",),
                    untrusted=True,
                    description="Search the user's mailbox, inbound mail included.",
                ),
                W(name="read_message", action="read", targets=("messages",), untrusted=True),
                W(name="list_events", action="read", targets=("calendar_events",)),
                W(name="draft_reply", action="write", reversibility="staged", targets=("messages",)),
                W(name="send_email", action="send", fan_out=100, leaves_org=True),
                W(
                    name="send_bulk_email",
                    action="send",
                    fan_out=5000,
                    leaves_org=True,
                    targets=("@mailing-list",),
                    description="Send one message to every member of a distribution list.",
                ),
                W(name="delete_message", action="delete", reversibility="soft-delete", targets=("messages",)),
            ),
        ),
        _Kind(
            kind="chat",
            vendors=("slack", "teams-chat", "mattermost"),
            weight=0.3,
            pull=2.0,
            approvers=("IT Director", "Collaboration Lead"),
            tables=(
                T(name="channel_history", log10_records=8.0, columns="channel:internal;author:pii;text:confidential"),
                T(
                    name="workspace_members",
                    log10_records=3.6,
                    people=("members", "employees"),
                    per_person=1.05,
                    columns="full_name:pii;email:pii;title:internal",
                ),
                T(name="direct_messages", log10_records=7.7, columns="author:pii;text:confidential"),
                T(
                    name="shared_channels",
                    log10_records=5.0,
                    columns="channel:internal;external_org:internal;text:confidential",
                ),
            ),
            tools=(
                W(name="search_messages", action="read", fan_out=200, targets=("channel_history",)),
                W(
                    name="read_shared_channel",
                    action="read",
                    targets=("shared_channels",),
                    untrusted=True,
                    description="Read a channel shared with another company.",
                ),
                W(name="post_message", action="send", fan_out=1),
                W(name="share_to_external_channel", action="share", fan_out=50, leaves_org=True),
                W(name="delete_message", action="delete", reversibility="soft-delete", targets=("channel_history",)),
            ),
        ),
        _Kind(
            kind="file-storage",
            vendors=("google-drive", "sharepoint", "box", "dropbox"),
            weight=0.9,
            pull=2.0,
            approvers=("IT Director", "Records Manager"),
            tables=(
                T(name="finance_shared", log10_records=4.8, columns="file_name:internal;content:financial"),
                T(
                    name="hr_records",
                    log10_records=4.2,
                    columns="file_name:internal;content:pii;ssn:pii;date_of_birth:pii",
                ),
                T(name="legal_matters", log10_records=4.4, columns="file_name:internal;content:confidential"),
                T(name="marketing_assets", log10_records=4.8, columns="file_name:internal;content:public"),
                T(
                    name="legacy_exports",
                    log10_records=5.0,
                    unknown=True,
                    classification="pii",
                    copy_weight=0.2,
                    columns="",
                ),
                T(name="engineering_docs", log10_records=5.1, columns="file_name:internal;content:internal"),
                T(
                    name="password_vault_export",
                    log10_records=2.0,
                    copy_weight=0.02,
                    columns="file_name:internal;password:credentials",
                ),
            ),
            tools=(
                W(name="search_files", action="read", fan_out=100),
                W(name="read_file", action="read"),
                W(name="upload_file", action="write"),
                W(name="create_share_link", action="share", leaves_org=True),
                W(name="share_folder_externally", action="share", fan_out=500, leaves_org=True),
                W(name="delete_file", action="delete", reversibility="soft-delete"),
                W(name="purge_trash", action="delete", fan_out=1000, reversibility="immediate"),
            ),
        ),
        _Kind(
            kind="hris",
            vendors=("workday", "bamboohr", "successfactors"),
            weight=0.3,
            pull=1.5,
            approvers=("CHRO", "People Operations"),
            tables=(
                T(
                    name="workers",
                    log10_records=3.6,
                    people=("workforce", "employees"),
                    per_person=1.12,
                    columns="employee_id:internal;full_name:pii;date_of_birth:pii;ssn:pii;home_address:pii;bank_account:financial",
                ),
                T(
                    name="compensation",
                    log10_records=3.8,
                    per_person=3.0,
                    columns="employee_id:internal;comp_individual:financial;salary_band:confidential",
                ),
                T(
                    name="candidates",
                    log10_records=4.6,
                    people=("candidates", "candidates"),
                    columns="full_name:pii;email:pii;resume:pii;stage:internal",
                ),
                T(
                    name="performance_reviews",
                    log10_records=4.0,
                    columns="employee_id:internal;rating:confidential;notes:confidential",
                ),
                T(
                    name="benefits_claims",
                    log10_records=4.3,
                    columns="employee_id:internal;diagnosis:health;amount:financial",
                ),
            ),
            tools=(
                W(name="search_workers", action="read", fan_out=100, targets=("workers",)),
                W(name="search_candidates", action="read", fan_out=100, targets=("candidates",)),
                W(name="get_compensation", action="read", targets=("compensation",)),
                W(name="update_candidate_stage", action="write", targets=("candidates",)),
                W(name="update_worker", action="write", targets=("workers",)),
                W(name="send_offer_letter", action="send", leaves_org=True, targets=("@candidates",)),
            ),
        ),
        _Kind(
            kind="ticketing",
            vendors=("zendesk", "servicenow", "freshdesk"),
            weight=0.5,
            pull=2.0,
            approvers=("Support Director", "IT Director"),
            tables=(
                T(
                    name="tickets",
                    log10_records=6.4,
                    people=("requesters", "customers"),
                    columns="ticket_id:internal;requester_email:pii;subject:internal;body:confidential",
                ),
                T(name="attachments", log10_records=6.0, columns="file_name:internal;content:confidential"),
                T(name="macros", log10_records=2.5, columns="title:internal;body:internal"),
                T(name="end_users", log10_records=5.6, columns="full_name:pii;email:pii;phone:pii"),
            ),
            tools=(
                W(name="get_ticket", action="read", targets=("tickets",), untrusted=True),
                W(name="search_tickets", action="read", fan_out=100, targets=("tickets",), untrusted=True),
                W(name="update_ticket", action="write", targets=("tickets",)),
                W(name="reply_to_ticket", action="send", leaves_org=True, targets=("@requesters",)),
                W(name="bulk_macro_reply", action="send", fan_out=500, leaves_org=True, targets=("@requesters",)),
                W(name="close_tickets_bulk", action="write", fan_out=2000, targets=("tickets",)),
                W(name="delete_ticket", action="delete", reversibility="immediate", targets=("tickets",)),
            ),
        ),
        _Kind(
            kind="billing",
            vendors=("zuora", "chargebee", "stripe-billing"),
            weight=0.3,
            pull=1.5,
            approvers=("Finance", "Controller"),
            tables=(
                T(
                    name="billing_accounts",
                    log10_records=4.7,
                    people=("billing-contacts", "customers"),
                    columns="company:internal;billing_contact_email:pii;billing_address:pii;tax_id:confidential",
                ),
                T(
                    name="invoices",
                    log10_records=6.2,
                    classification="financial",
                    columns="invoice_id:internal;amount:financial;account_id:internal",
                ),
                T(
                    name="payment_methods",
                    log10_records=4.7,
                    columns="account_id:internal;card_number:financial;card_expiry:financial",
                ),
                T(name="subscriptions", log10_records=5.0, columns="account_id:internal;plan:internal;mrr:financial"),
                T(
                    name="usage_records",
                    log10_records=8.3,
                    columns="account_id:internal;metric:internal;quantity:internal",
                ),
            ),
            tools=(
                W(name="search_accounts", action="read", fan_out=100, targets=("billing_accounts",)),
                W(name="get_invoice", action="read", targets=("invoices",)),
                W(name="issue_credit_memo", action="write", targets=("invoices",)),
                W(name="apply_refund", action="pay", leaves_org=True, targets=("invoices",)),
                W(name="cancel_subscription", action="delete", reversibility="immediate", targets=("subscriptions",)),
                W(name="send_invoice", action="send", leaves_org=True, targets=("@billing-contacts",)),
            ),
        ),
        _Kind(
            kind="payments",
            vendors=("kyriba", "bill-com", "adyen"),
            weight=0.2,
            pull=1.2,
            approvers=("Treasurer", "CFO"),
            tables=(
                T(
                    name="payees",
                    log10_records=3.8,
                    people=("payees", "suppliers"),
                    columns="payee_name:internal;bank_account:financial;iban:financial;tax_id:confidential;remit_email:pii",
                ),
                T(
                    name="payments",
                    log10_records=5.5,
                    classification="financial",
                    columns="payment_id:internal;amount:financial;payee_id:internal",
                ),
                T(
                    name="payment_batches",
                    log10_records=3.4,
                    classification="financial",
                    columns="batch_id:internal;total:financial;status:internal",
                ),
            ),
            tools=(
                W(name="list_payments", action="read", fan_out=500, targets=("payments", "payment_batches")),
                W(name="create_payment", action="write", reversibility="staged", targets=("payments",)),
                W(
                    name="release_payment_batch",
                    action="pay",
                    fan_out=500,
                    leaves_org=True,
                    targets=("payment_batches",),
                    description="Release a batch of payments to the bank.",
                ),
                W(name="update_payee_bank_details", action="write", targets=("payees",)),
            ),
        ),
        _Kind(
            kind="clm",
            vendors=("ironclad", "docusign-clm", "icertis"),
            weight=0.2,
            pull=1.2,
            approvers=("General Counsel", "Legal Ops"),
            tables=(
                T(
                    name="contracts",
                    log10_records=4.6,
                    people=("counterparties", "partners"),
                    columns="counterparty:internal;value:financial;terms:confidential;signatory_email:pii",
                ),
                T(name="clauses", log10_records=4.0, columns="clause:internal;text:internal"),
                T(name="amendments", log10_records=4.1, columns="contract_id:internal;terms:confidential"),
            ),
            tools=(
                W(name="search_contracts", action="read", fan_out=50, targets=("contracts",)),
                W(name="draft_contract", action="write", reversibility="staged", targets=("contracts",)),
                W(name="send_for_signature", action="send", leaves_org=True, targets=("@counterparties",)),
                W(name="sign_contract", action="sign", leaves_org=True, targets=("contracts",)),
            ),
        ),
        _Kind(
            kind="wiki",
            vendors=("confluence", "notion"),
            weight=0.3,
            pull=1.5,
            approvers=("Team Lead", "IT Director"),
            tables=(
                T(name="pages", log10_records=5.8, columns="title:internal;body:internal"),
                T(name="spaces", log10_records=2.8, columns="name:internal;owner:internal"),
                T(name="incident_postmortems", log10_records=3.4, columns="title:internal;body:confidential"),
            ),
            tools=(
                W(name="search_pages", action="read", fan_out=50),
                W(name="read_page", action="read"),
                W(name="update_page", action="write"),
                W(name="delete_page", action="delete", reversibility="soft-delete"),
            ),
        ),
        _Kind(
            kind="web",
            vendors=("web-search", "web-fetch"),
            weight=0.15,
            pull=1.0,
            leaves_org=True,
            approvers=("IT Director",),
            tables=(T(name="search_results", log10_records=9.0, unknown=True, columns="url:public;snippet:public"),),
            tools=(
                W(name="search_web", action="read", fan_out=10, untrusted=True, description="Search the public web."),
                W(name="fetch_page", action="read", untrusted=True),
            ),
        ),
        _Kind(
            kind="code",
            vendors=("github", "gitlab"),
            weight=0.3,
            pull=1.5,
            approvers=("VP Engineering", "Platform Lead"),
            tables=(
                T(name="repositories", log10_records=3.8, columns="name:internal;source:confidential"),
                T(name="pull_requests", log10_records=5.5, columns="title:internal;diff:confidential;author:internal"),
                T(name="ci_secrets", log10_records=2.6, copy_weight=0.05, columns="name:internal;value:credentials"),
                T(name="ci_logs", log10_records=7.0, columns="job:internal;log:internal"),
            ),
            tools=(
                W(name="search_code", action="read", fan_out=100),
                W(name="create_pull_request", action="write", reversibility="staged"),
                W(name="merge_pull_request", action="write"),
                W(name="run_workflow", action="execute", description="Run a CI workflow with repository secrets."),
                W(name="delete_branch", action="delete", reversibility="soft-delete"),
            ),
        ),
        _Kind(
            kind="marketing",
            vendors=("marketo", "braze", "mailchimp"),
            weight=0.25,
            pull=1.2,
            approvers=("CMO", "Marketing Ops"),
            tables=(
                T(
                    name="subscribers",
                    log10_records=6.0,
                    people=("subscribers", "contacts"),
                    columns="email:pii;full_name:pii;consent:internal;country:internal",
                ),
                T(name="campaigns", log10_records=3.4, columns="name:internal;budget:financial"),
                T(name="email_events", log10_records=8.2, columns="email:pii;event:internal;campaign:internal"),
                T(name="segments", log10_records=2.9, columns="name:internal;rule:internal"),
            ),
            tools=(
                W(name="list_campaigns", action="read", targets=("campaigns",)),
                W(name="search_subscribers", action="read", fan_out=1000, targets=("subscribers",)),
                W(name="update_segment", action="write", fan_out=10000, targets=("segments", "subscribers")),
                W(
                    name="send_campaign",
                    action="send",
                    fan_out=100_000,
                    leaves_org=True,
                    targets=("@subscribers",),
                    description="Send a campaign to every subscriber of a segment.",
                ),
            ),
        ),
        _Kind(
            kind="erp",
            vendors=("netsuite", "sap", "oracle-erp"),
            weight=0.3,
            pull=1.5,
            approvers=("Controller", "CFO"),
            tables=(
                T(
                    name="vendors",
                    log10_records=3.6,
                    people=("suppliers", "suppliers"),
                    columns="vendor_name:internal;bank_account:financial;tax_id:confidential",
                ),
                T(
                    name="purchase_orders",
                    log10_records=5.4,
                    classification="financial",
                    columns="po_id:internal;amount:financial;vendor_id:internal",
                ),
                T(
                    name="journal_entries",
                    log10_records=7.1,
                    classification="financial",
                    columns="entry_id:internal;amount:financial;memo:confidential",
                ),
                T(
                    name="expense_reports",
                    log10_records=5.3,
                    columns="employee_id:internal;amount:financial;receipt:confidential",
                ),
            ),
            tools=(
                W(name="search_vendors", action="read", fan_out=100, targets=("vendors",)),
                W(name="get_journal", action="read", fan_out=10000, targets=("journal_entries",)),
                W(name="create_journal_entry", action="write", targets=("journal_entries",)),
                W(name="approve_purchase_order", action="sign", leaves_org=True, targets=("purchase_orders",)),
                W(name="post_vendor_payment", action="pay", leaves_org=True, targets=("vendors",)),
            ),
        ),
    )
}
del T, W

#: The first systems, in order: the core of a company's stack. Further systems are drawn by kind weight.
_CORE_KINDS = (
    "crm",
    "warehouse",
    "email",
    "ticketing",
    "file-storage",
    "hris",
    "chat",
    "billing",
    "web",
    "payments",
    "clm",
    "wiki",
    "code",
    "marketing",
    "erp",
)

#: Column names that identify a person or open an account (denied by careful connectors).
_HIGH_RISK_NAMES = frozenset(
    {
        "ssn",
        "bank_account",
        "iban",
        "tax_id",
        "card_number",
        "date_of_birth",
        "personal_mobile",
        "home_address",
        "comp_individual",
        "api_key",
        "password",
        "diagnosis",
        "value",
    }
)


@dataclass(frozen=True, kw_only=True)
class _Department:
    id: str
    weight: float
    teams: tuple[str, ...]
    kinds: tuple[str, ...]  # system kinds its plugins reach for
    external: float  # share of its plugins whose output leaves the organisation
    purposes: tuple[tuple[str, str], ...]  # (plugin id stem, description)


D = _Department
_DEPARTMENTS: tuple[_Department, ...] = (
    D(
        id="finance",
        weight=0.08,
        teams=("fpa", "accounting", "ap", "treasury", "tax"),
        kinds=("warehouse", "erp", "billing", "payments", "file-storage", "email", "chat"),
        external=0.25,
        purposes=(
            ("month-end-close", "Reconciles the ledger and drafts the close checklist."),
            ("ap-autopilot", "Matches invoices to purchase orders and releases payment batches."),
            ("forecast-assistant", "Builds the weekly forecast from pipeline and bookings."),
            ("collections-outreach", "Chases overdue invoices by email."),
            ("expense-audit", "Flags out-of-policy expense reports."),
        ),
    ),
    D(
        id="sales",
        weight=0.20,
        teams=("ae", "sdr", "ops", "solutions", "enablement", "partnerships"),
        kinds=("crm", "email", "warehouse", "clm", "chat", "web"),
        external=0.6,
        purposes=(
            ("pipeline-review", "Reviews open opportunities and drafts follow-ups."),
            ("prospect-outreach", "Writes and sends first-touch emails to leads."),
            ("crm-hygiene", "Merges, updates and deletes duplicate contacts."),
            ("account-research", "Summarises an account before a call."),
            ("deal-desk", "Drafts order forms and sends them for signature."),
        ),
    ),
    D(
        id="legal",
        weight=0.03,
        teams=("commercial", "privacy", "corporate", "ip"),
        kinds=("clm", "file-storage", "email", "web", "chat"),
        external=0.4,
        purposes=(
            ("contract-review", "Redlines inbound contracts against the playbook."),
            ("nda-autopilot", "Drafts, sends and countersigns standard NDAs."),
            ("privacy-requests", "Finds and exports a data subject's records."),
            ("legal-research", "Researches case law and regulations."),
        ),
    ),
    D(
        id="hr",
        weight=0.05,
        teams=("recruiting", "people-ops", "comp-benefits", "learning"),
        kinds=("hris", "email", "file-storage", "chat", "wiki", "warehouse"),
        external=0.2,
        purposes=(
            ("recruiting-assistant", "Screens candidates, schedules interviews and sends offers."),
            ("people-analytics", "Answers headcount and attrition questions."),
            ("onboarding-buddy", "Guides new hires through their first weeks."),
            ("policy-qa", "Answers questions on HR policies."),
        ),
    ),
    D(
        id="marketing",
        weight=0.07,
        teams=("campaigns", "content", "product-marketing", "events", "growth"),
        kinds=("marketing", "crm", "email", "web", "warehouse", "file-storage"),
        external=0.7,
        purposes=(
            ("renewal-campaigns", "Sends renewal campaigns to customer contacts."),
            ("competitive-intel", "Tracks competitors on the web and files briefs."),
            ("content-drafts", "Drafts blog posts and social copy."),
            ("audience-builder", "Builds campaign segments from CRM and usage data."),
            ("event-followups", "Emails event attendees after the event."),
        ),
    ),
    D(
        id="support",
        weight=0.14,
        teams=("tier1", "tier2", "success", "onboarding", "escalations"),
        kinds=("ticketing", "crm", "billing", "email", "wiki", "chat"),
        external=0.8,
        purposes=(
            ("support-autoresponder", "Answers inbound tickets and closes solved ones."),
            ("ticket-triage", "Tags and routes new tickets."),
            ("refund-assistant", "Reviews refund requests and applies refunds."),
            ("kb-writer", "Turns solved tickets into help-center articles."),
            ("churn-rescue", "Finds at-risk accounts and emails them offers."),
        ),
    ),
    D(
        id="engineering",
        weight=0.20,
        teams=("platform", "backend", "frontend", "mobile", "sre", "qa"),
        kinds=("code", "wiki", "chat", "web", "ticketing", "warehouse"),
        external=0.1,
        purposes=(
            ("oncall-assistant", "Summarises alerts and posts updates during incidents."),
            ("code-review", "Reviews pull requests and suggests fixes."),
            ("release-notes", "Writes release notes from merged pull requests."),
            ("dependency-bot", "Opens and merges dependency upgrades."),
        ),
    ),
    D(
        id="operations",
        weight=0.05,
        teams=("bizops", "facilities", "supply-chain", "revops"),
        kinds=("ticketing", "warehouse", "erp", "payments", "file-storage", "email"),
        external=0.2,
        purposes=(
            ("vendor-onboarding", "Collects supplier details and sets them up for payment."),
            ("ops-reporting", "Writes the weekly operations report."),
            ("order-exceptions", "Resolves stuck orders."),
        ),
    ),
    D(
        id="it",
        weight=0.04,
        teams=("helpdesk", "identity", "endpoint"),
        kinds=("ticketing", "code", "wiki", "chat", "hris", "file-storage"),
        external=0.05,
        purposes=(
            ("helpdesk-bot", "Answers IT tickets and resets access."),
            ("access-reviews", "Prepares quarterly access reviews."),
        ),
    ),
    D(
        id="product",
        weight=0.05,
        teams=("pm", "design", "research"),
        kinds=("warehouse", "wiki", "chat", "ticketing", "web", "code"),
        external=0.1,
        purposes=(
            ("feedback-synthesis", "Clusters customer feedback into themes."),
            ("usage-insights", "Answers product usage questions."),
        ),
    ),
    D(
        id="data",
        weight=0.03,
        teams=("analytics", "data-eng", "ml"),
        kinds=("warehouse", "file-storage", "code", "chat", "wiki"),
        external=0.05,
        purposes=(
            ("sql-copilot", "Writes and runs SQL for analysts."),
            ("data-quality", "Finds and fixes broken pipelines."),
        ),
    ),
    D(
        id="security",
        weight=0.02,
        teams=("secops", "grc", "appsec"),
        kinds=("code", "ticketing", "chat", "wiki", "warehouse", "web"),
        external=0.05,
        purposes=(
            ("alert-triage", "Triages security alerts."),
            ("phishing-review", "Reviews reported phishing emails."),
        ),
    ),
    D(
        id="procurement",
        weight=0.02,
        teams=("sourcing", "vendor-mgmt"),
        kinds=("erp", "payments", "clm", "email", "file-storage"),
        external=0.4,
        purposes=(
            ("sourcing-assistant", "Compares supplier quotes."),
            ("po-approvals", "Approves purchase orders under the threshold."),
        ),
    ),
)
del D
_DEPT_BY_ID = {d.id: d for d in _DEPARTMENTS}

_TEAM_REGIONS = ("amer", "emea", "apac", "latam", "anz")
_TABLE_SUFFIXES = ("archive", "staging", "emea", "apac", "amer", "2023", "2024", "2025", "backup", "raw", "daily", "v2")
_ROW_LIMITS = np.array([200, 500, 1000, 2000, 5000, 10_000, 50_000])


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _check_counts(people: int, plugins: int, connectors: int, systems: int, datasets: int) -> None:
    given = {"people": people, "plugins": plugins, "connectors": connectors, "systems": systems, "datasets": datasets}
    for name, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise BlastRadiusError(f"{name} must be a whole number, got {value!r}")
    minimums = {"people": _MIN_PEOPLE, "plugins": 1, "connectors": 1, "systems": 1}
    for name, least in minimums.items():
        if given[name] < least:
            raise BlastRadiusError(
                f"{name} must be at least {least}, got {given[name]} "
                f"(a synthetic enterprise needs at least {_MIN_PEOPLE} people and one plugin, connector and system)"
            )
    if datasets < systems:
        raise BlastRadiusError(
            f"datasets must be at least systems ({systems}), got {datasets}: every system holds at least one dataset"
        )


def _split(
    total: int, weights: np.ndarray, rng: np.random.Generator, *, minimum: int = 1, concentration: float | None = 50.0
) -> np.ndarray:
    """Split ``total`` into ``len(weights)`` whole parts of at least ``minimum``, summing exactly to ``total``.

    Proportions are drawn from a Dirichlet around ``weights`` (``concentration``
    controls how close; None uses ``weights`` as they are); remainders go by
    largest fractional part (the largest-remainder method).
    """
    n = len(weights)
    spare = total - minimum * n
    if spare < 0:
        raise ValueError("total below the minimum")  # callers size n so this cannot happen
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    if concentration is not None:
        w = rng.dirichlet(np.maximum(w * concentration * n, 1e-3))
    raw = w * spare
    parts = np.floor(raw).astype(np.int64)
    short = spare - int(parts.sum())
    if short:
        parts[np.argsort(-(raw - parts), kind="stable")[:short]] += 1
    return parts + minimum


def _unique(stem: str, taken: dict[str, int]) -> str:
    """``stem``, or ``stem-2``, ``stem-3`` ... the first not yet taken (and record it as taken)."""
    if stem not in taken:
        taken[stem] = 1
        return stem
    n = taken[stem]
    while True:
        n += 1
        candidate = f"{stem}-{n}"
        if candidate not in taken:
            taken[stem] = n
            taken[candidate] = 1
            return candidate


def _date(days_ago: int, as_of: dt.date) -> dt.date:
    return as_of - dt.timedelta(days=int(days_ago))


def _columns(spec: str) -> list[tuple[str, str]]:
    return [tuple(item.split(":", 1)) for item in spec.split(";") if item]  # type: ignore[misc]


# ---------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------


@dataclass(kw_only=True)
class _SystemOut:
    id: str
    kind: _Kind
    tables: list[str]
    columns: dict[str, list[tuple[str, str]]]  # table -> columns
    groups: dict[str, str]  # group label -> people group id
    sensitive: bool


def _teams(people: int, rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, list[tuple[str, int]]]]:
    n_depts = int(np.clip(people // 15, 1, len(_DEPARTMENTS)))
    depts = _DEPARTMENTS[:n_depts]
    dept_people = _split(people, np.array([d.weight for d in depts]), rng, concentration=40.0)
    teams: list[dict[str, Any]] = []
    by_dept: dict[str, list[tuple[str, int]]] = {}
    for dept, total in zip(depts, dept_people, strict=True):
        mean_size = rng.uniform(60, 180)
        n = int(np.clip(round(total / mean_size), 1, total))
        sizes = _split(int(total), np.ones(n), rng, concentration=4.0)
        entries = []
        for i, size in enumerate(sizes):
            base = dept.teams[i % len(dept.teams)]
            rnd = i // len(dept.teams)
            suffix = (
                base
                if rnd == 0
                else (f"{base}-{_TEAM_REGIONS[rnd - 1]}" if rnd <= len(_TEAM_REGIONS) else f"{base}-{rnd + 1}")
            )
            team_id = f"{dept.id}-{suffix}"
            teams.append({"id": team_id, "department": dept.id, "headcount": int(size)})
            entries.append((team_id, int(size)))
        by_dept[dept.id] = entries
    return teams, by_dept


def _systems(n: int, rng: np.random.Generator) -> list[_Kind]:
    core = [_KINDS[k] for k in _CORE_KINDS[:n]]
    if n <= len(core):
        return core
    names = list(_KINDS)
    w = np.array([_KINDS[k].weight for k in names])
    extra = rng.choice(len(names), size=n - len(core), p=w / w.sum())
    return core + [_KINDS[names[i]] for i in extra]


def _datasets(
    kinds: list[_Kind], datasets: int, people: int, rng: np.random.Generator
) -> tuple[list[_SystemOut], list[dict[str, Any]], list[dict[str, Any]]]:
    """Systems with their tables (rows of datasets.csv) and people groups."""
    appetite = np.array([{"warehouse": 6.0, "file-storage": 3.0, "web": 0.2}.get(k.kind, 1.0) for k in kinds])
    per_system = _split(datasets, appetite * np.array([len(k.tables) for k in kinds]), rng, concentration=8.0)

    # Which template each dataset copies, and its name: the kind's tables in order, then weighted copies.
    taken_ids: dict[str, int] = {}
    plan: list[tuple[int, _Table, str]] = []  # (system index, template, table name)
    parsed: dict[str, list[tuple[str, str]]] = {}
    systems: list[_SystemOut] = []
    for s, (kind, count) in enumerate(zip(kinds, per_system, strict=True)):
        sys_id = _unique(
            kind.vendors[0] if s < len(_CORE_KINDS) else kind.vendors[int(rng.integers(len(kind.vendors)))], taken_ids
        )
        base = list(kind.tables[: int(count)])
        extra = int(count) - len(base)
        if extra > 0:
            # copies are mostly of the small tables: big event tables are rarely duplicated
            cw = np.array([t.copy_weight * 10.0 ** (-0.3 * max(t.log10_records - 4.0, 0.0)) for t in kind.tables])
            base += [kind.tables[i] for i in rng.choice(len(kind.tables), size=extra, p=cw / cw.sum())]
        names: dict[str, int] = {}
        out = _SystemOut(id=sys_id, kind=kind, tables=[], columns={}, groups={}, sensitive=False)
        for tmpl in base:
            copy = names.get(tmpl.name, 0)
            names[tmpl.name] = copy + 1
            if copy == 0:
                name = tmpl.name
            elif copy <= len(_TABLE_SUFFIXES):
                name = f"{tmpl.name}_{_TABLE_SUFFIXES[copy - 1]}"
            else:
                name = f"{tmpl.name}_{copy + 1}"
            plan.append((s, tmpl, name))
            out.tables.append(name)
            out.columns[name] = parsed.setdefault(tmpl.columns, _columns(tmpl.columns))
        systems.append(out)

    # Record counts, vectorised: lognormal around each template's median, copies smaller.
    n = len(plan)
    mu = np.array([t.log10_records for _, t, _ in plan])
    copies = np.array([name != t.name for _, t, name in plan])
    log10 = mu - 0.8 * copies + rng.normal(0.0, 0.6, size=n)
    records = np.clip(np.round(10.0**log10), 1, 2_000_000_000).astype(np.int64)
    per_person = np.array([t.per_person or 0.0 for _, t, _ in plan])
    scaled = (per_person > 0) & ~copies
    records[scaled] = np.maximum(
        1, np.round(people * per_person[scaled] * rng.uniform(0.95, 1.1, size=int(scaled.sum())))
    )
    unknown = np.array([t.unknown for _, t, _ in plan]) | (rng.random(n) < 0.015)
    if n >= 20 and not unknown.any():
        unknown[int(rng.integers(n))] = True

    rows: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    dataset_ids: dict[str, int] = {}
    for j, (s, tmpl, name) in enumerate(plan):
        system = systems[s]
        ds_id = _unique(f"{system.id}-{name.replace('_', '-')}", dataset_ids)
        size = None if unknown[j] else int(records[j])
        rows.append(
            {
                "id": ds_id,
                "system": system.id,
                "table": name,
                "records": size,
                "classification": tmpl.classification,
                "columns": tmpl.columns,
            }
        )
        cls = {c for _, c in system.columns[name]} | ({tmpl.classification} if tmpl.classification else set())
        system.sensitive |= bool(cls & {"confidential", "financial", "pii", "health", "credentials"})
        if tmpl.people is not None and name == tmpl.name:
            label, people_kind = tmpl.people
            group_id = f"{system.id}-{label}"
            system.groups[label] = group_id
            count = size
            if count is not None and people_kind == "employees":
                count = people
            elif count is not None and rng.random() < 0.04:
                count = None  # not counted yet
            group = {"id": group_id, "kind": people_kind, "count": count, "dataset": ds_id}
            groups.append({k: v for k, v in group.items() if v is not None} | {"system": system.id})
    for system in systems:
        for label, people_kind in system.kind.extra_people:
            group_id = f"{system.id}-{label}"
            system.groups[label] = group_id
            groups.append({"id": group_id, "kind": people_kind, "system": system.id})  # count unknown, on purpose
    return systems, rows, groups


def _tool_entry(tool: _Tool, system: _SystemOut) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": tool.name, "action": tool.action}
    if tool.description:
        entry["description"] = tool.description
    if tool.reversibility:
        entry["reversibility"] = tool.reversibility
    if tool.fan_out > 1:
        entry["fan_out"] = tool.fan_out
    if tool.leaves_org is not None:
        entry["leaves_org"] = tool.leaves_org
    targets = []
    for t in tool.targets:
        if t.startswith("@"):
            if t[1:] in system.groups:
                targets.append(system.groups[t[1:]])
        elif t in system.columns:
            targets.append(t)
    if targets:
        entry["targets"] = targets
    if tool.untrusted:
        entry["untrusted_content"] = True
    return entry


def _high_risk_columns(system: _SystemOut, tables: Sequence[str] | None = None) -> list[str]:
    out: dict[str, None] = {}
    for table in tables if tables is not None else system.tables:
        for name, cls in system.columns[table]:
            if name in _HIGH_RISK_NAMES or cls in ("credentials", "health"):
                out[name] = None
    return list(out)


def _connectors(
    systems: list[_SystemOut], n: int, depts: list[str], rng: np.random.Generator, as_of: dt.date
) -> tuple[list[dict[str, Any]], list[int], list[str | None]]:
    """Connector definitions, the system index of each, and the department each one is scoped to (None: shared)."""
    n_sys = len(systems)
    per_system = np.zeros(n_sys, dtype=np.int64)
    first = min(n, n_sys)
    per_system[:first] = 1
    if n > n_sys:
        pull = np.array([s.kind.pull * np.sqrt(len(s.tables)) for s in systems])
        per_system += rng.multinomial(n - n_sys, pull / pull.sum())
    system_of = np.repeat(np.arange(n_sys), per_system)
    rank = np.concatenate([np.arange(k) for k in per_system]) if n else np.zeros(0, dtype=np.int64)

    # Every random property of every connector, drawn at once.
    u = rng.random((n, 12))
    limits = rng.choice(_ROW_LIMITS, size=n)
    divisors = rng.choice(np.array([2, 4, 5, 10]), size=n)
    approved_days = np.where(u[:, 6] < 0.7, rng.integers(3, 85, size=n), rng.integers(95, 520, size=n))
    revoke_s = rng.choice(np.array([15, 30, 60, 120, 300]), size=n)

    conns: list[dict[str, Any]] = []
    scoped_to: list[str | None] = []
    taken: dict[str, int] = {}
    for i in range(n):
        system = systems[system_of[i]]
        kind = system.kind
        shared = rank[i] == 0
        if shared:
            dept = None
            cid = _unique(system.id, taken)
            tools = list(kind.tools)
        else:
            home = [d for d in depts if kind.kind in _DEPT_BY_ID[d].kinds] or depts
            dept = home[int(rng.integers(len(home)))]
            cid = _unique(f"{system.id}-{dept}", taken)
            keep = rng.random(len(kind.tools)) < 0.5
            tools = [t for t, k in zip(kind.tools, keep, strict=True) if t.action == "read" or k]
        writes = any(t.action != "read" for t in tools)
        read_write = writes and u[i, 0] < (0.75 if shared else 0.45)
        conn: dict[str, Any] = {"id": cid, "system": system.id}
        if shared:
            conn["description"] = f"{kind.kind} connector shared across the company"
        else:
            conn["description"] = f"{kind.kind} connector for {dept}"
        conn["access"] = "read-write" if read_write else "read-only"
        if kind.leaves_org:
            conn["leaves_org"] = True
        # Scope: allowed tables, denied columns, row limit and alerts.
        tables = system.tables
        if len(tables) > 1 and u[i, 1] < (0.3 if shared else 0.7):
            k = int(rng.integers(1, min(len(tables), 8) + 1))
            pick = set(rng.choice(len(tables), size=k, replace=False).tolist())
            tables = [t for j, t in enumerate(system.tables) if j in pick]
            conn["allowed_tables"] = tables
        risky = _high_risk_columns(system, tables)
        if risky and u[i, 2] < 0.8:
            deny = risky if u[i, 2] < 0.55 else risky[: max(1, len(risky) // 2)]
            conn["denied_columns"] = deny
        has_reads = any(t.action == "read" for t in tools)
        if has_reads and u[i, 3] < (0.45 if shared else 0.75):
            conn["row_limit"] = int(limits[i])
        audit: dict[str, Any] | None = None
        if u[i, 4] < 0.82:
            audit = {"log_every_query": bool(u[i, 4] < 0.74)}
            if "row_limit" in conn and u[i, 5] < 0.75:
                audit["alert_if_rows_returned_over"] = int(conn["row_limit"] // divisors[i])
            elif "row_limit" not in conn and has_reads and u[i, 5] < 0.15:
                audit["alert_if_rows_returned_over"] = 5000
            if any(t.action in ("send", "share") and t.fan_out > 1 for t in tools) and u[i, 5] < 0.5:
                audit["alert_if_sends_over"] = 100
        if any(t.action in ("pay", "sign") for t in tools) and u[i, 7] < 0.1:
            conn["requires_approval"] = True
        if system.sensitive or read_write:
            tier = 3
        elif any(t.leaves_org or kind.leaves_org for t in tools):
            tier = 2
        else:
            tier = 1
        if u[i, 8] < 0.9:
            conn["tier"] = tier
        if u[i, 9] >= 0.07:
            conn["approved_by"] = kind.approvers[int(rng.integers(len(kind.approvers)))]
        if u[i, 9] < 0.04 or u[i, 9] >= 0.1:
            conn["approved_on"] = _date(approved_days[i], as_of)
        if audit is not None:
            conn["audit"] = audit
        if u[i, 10] < 0.68:
            conn["revocation"] = {"can_revoke": True, "time_to_revoke_seconds": int(revoke_s[i])}
        elif u[i, 10] < 0.78:
            conn["revocation"] = {"can_revoke": True, "time_to_revoke_seconds": 900 if u[i, 11] < 0.5 else 3600}
        elif u[i, 10] < 0.88:
            conn["revocation"] = {"can_revoke": False}
        conn["tools"] = [_tool_entry(t, system) for t in tools]
        conns.append(conn)
        scoped_to.append(dept)
    return conns, system_of.tolist(), scoped_to


def _is_high_impact(tool: Mapping[str, Any]) -> bool:
    return is_high_impact_action(ActionClass(tool["action"]), tool.get("fan_out", 1))


def _plugins(
    n: int,
    teams_by_dept: dict[str, list[tuple[str, int]]],
    conns: list[dict[str, Any]],
    conn_kinds: list[str],
    scoped_to: list[str | None],
    mega: int,
    rng: np.random.Generator,
    as_of: dt.date,
) -> list[tuple[str, dict[str, Any]]]:
    """Plugins as (owning department, entry)."""
    depts = list(teams_by_dept)
    dept_people = np.array([sum(h for _, h in teams_by_dept[d]) for d in depts], dtype=float)
    per_dept = _split(n, dept_people, rng, minimum=0, concentration=20.0)
    n_conn = len(conns)

    # Connector popularity per department: shared connectors of horizontal kinds are used everywhere.
    base = np.array([3.0 if s is None else 1.0 for s in scoped_to]) / (1.0 + 0.02 * np.arange(n_conn)) ** 0.5
    affinity = {}
    for d in depts:
        kinds = _DEPT_BY_ID[d].kinds
        w = base * np.array([4.0 if k in kinds else 0.25 for k in conn_kinds])
        w *= np.array([1.0 if s is None else (6.0 if s == d else 0.05) for s in scoped_to])
        w[mega] = max(w[mega], 0.12 * w.sum())  # the company-wide connector everybody plugs into
        affinity[d] = w / w.sum()

    u = rng.random((n, 10))
    k_conns = np.clip(1 + rng.poisson(1.6, size=n), 1, min(6, n_conn))
    runs = np.round(np.clip(rng.lognormal(1.0, 0.7, size=n), 0.2, 40.0), 1)
    audiences = np.where(
        u[:, 0] < 0.5, rng.integers(1, 40, size=n), np.round(rng.lognormal(4.0, 1.8, size=n)).astype(np.int64) + 1
    )
    pause_s = rng.choice(np.array([15, 30, 45, 60, 120]), size=n)
    rehearsed = rng.integers(5, 200, size=n)

    out: list[tuple[str, dict[str, Any]]] = []
    taken: dict[str, int] = {}
    j = 0
    for d, count in zip(depts, per_dept, strict=True):
        dept = _DEPT_BY_ID[d]
        own_teams = teams_by_dept[d]
        for m in range(int(count)):
            stem, description = dept.purposes[m % len(dept.purposes)]
            pid = _unique(stem, taken)
            owner, owner_size = own_teams[int(rng.integers(len(own_teams)))]
            users = [(owner, owner_size)]
            if len(own_teams) > 1 and u[j, 1] < 0.5:
                other = own_teams[int(rng.integers(len(own_teams)))]
                if other[0] != owner:
                    users.append(other)
            if len(depts) > 1 and u[j, 2] < 0.2:
                od = depts[int(rng.integers(len(depts)))]
                other = teams_by_dept[od][int(rng.integers(len(teams_by_dept[od])))]
                if all(other[0] != t for t, _ in users):
                    users.append(other)
            user_entries = []
            for team, size in users:
                entry: dict[str, Any] = {"team": team}
                if rng.random() < 0.7:
                    entry["users"] = int(max(1, min(size, round(size * rng.beta(2.0, 3.0)))))
                entry["runs_per_user_per_day"] = float(max(0.2, round(runs[j] * rng.uniform(0.5, 1.5), 1)))
                user_entries.append(entry)
            chosen = sorted(rng.choice(n_conn, size=int(k_conns[j]), replace=False, p=affinity[d]).tolist())
            connectors: list[Any] = []
            usable: list[tuple[str, dict[str, Any]]] = []  # (connector id, tool) the plugin is given
            for c in chosen:
                conn = conns[c]
                tools = conn["tools"]
                if len(tools) > 1 and rng.random() < 0.35:
                    keep = [t for t in tools if t["action"] == "read" or rng.random() < 0.5]
                    connectors.append({"connector": conn["id"], "tools": [t["name"] for t in keep]})
                else:
                    keep = tools
                    connectors.append(conn["id"])
                if conn["access"] == "read-write":
                    usable += [(conn["id"], t) for t in keep]
            high = [(cid, t) for cid, t in usable if _is_high_impact(t)]
            gates: list[str] = []
            style = u[j, 3]
            if high and style < 0.5:  # gate by action class, sometimes forgetting one
                actions = list(
                    dict.fromkeys(t["action"] for _, t in high if ActionClass(t["action"]) in HIGH_IMPACT_ACTIONS)
                )
                gates = [a for a in actions if rng.random() < 0.9]
            elif high and style < 0.75:  # gate named tools, sometimes forgetting one
                gates = [f"{cid}.{t['name']}" for cid, t in high if rng.random() < 0.75]
            elif high and style < 0.82:
                gates = [f"{high[0][0]}.*"]
            blocked = []
            if high and u[j, 4] < 0.12:
                cid, t = high[int(rng.integers(len(high)))]
                blocked = [f"{cid}.{t['name']}"]
                gates = [g for g in gates if g != blocked[0]]
            external = u[j, 5] < dept.external
            plugin: dict[str, Any] = {
                "id": pid,
                "name": pid.replace("-", " ").capitalize(),
                "description": description,
                "owner": owner,
                "users": user_entries,
                "connectors": connectors,
            }
            if gates:
                plugin["requires_approval"] = gates
            if blocked:
                plugin["blocked"] = blocked
            plugin["output"] = "external" if external else "internal"
            plugin["output_audience"] = int(audiences[j]) if external else int(rng.integers(1, 30))
            tier_u = u[j, 6]
            if tier_u < 0.68:
                plugin["review_tier"] = 3
            elif tier_u < 0.82:
                plugin["review_tier"] = 2
            elif tier_u < 0.92:
                plugin["review_tier"] = 1
            plugin["skills"] = [stem] + (["house-style"] if u[j, 7] < 0.3 else [])
            ks = u[j, 8]
            if ks < 0.6:
                plugin["kill_switch"] = {
                    "can_pause": True,
                    "time_to_pause_seconds": int(pause_s[j]),
                    "rehearsed_on": _date(rehearsed[j], as_of),
                }
            elif ks < 0.72:
                plugin["kill_switch"] = {"can_pause": True, "time_to_pause_seconds": int(pause_s[j])}
            elif ks < 0.78:
                plugin["kill_switch"] = {"can_pause": True, "time_to_pause_seconds": 3600}
            elif ks < 0.9:
                pass  # no kill switch
            else:
                plugin["kill_switch"] = {"can_pause": False}
            out.append((d, plugin))
            j += 1
    return out


def _plant(
    plugins: list[tuple[str, dict[str, Any]]],
    conns: list[dict[str, Any]],
    mega: int,
    rng: np.random.Generator,
    as_of: dt.date,
) -> None:
    """Make sure each pitfall lint looks for appears at least once, whatever the draw (when the size allows)."""
    mc = conns[mega]
    # Mega-connector: read-write, no allowed tables, no denied columns, no row limit (BR101, BR107, BR108).
    for key in ("allowed_tables", "denied_columns", "row_limit", "requires_approval"):
        mc.pop(key, None)
    if any(t["action"] != "read" for t in mc["tools"]):
        mc["access"] = "read-write"
    if mc.get("audit"):
        mc["audit"].pop("alert_if_rows_returned_over", None)
    mc["description"] = "one connector for the whole company: every table, read-write"
    others = [i for i in range(len(conns)) if i != mega] or [mega]
    pick = rng.permutation(others).tolist()
    conns[pick[0]].pop("audit", None)  # BR104
    conns[pick[1 % len(pick)]]["approved_on"] = _date(200 + int(rng.integers(0, 200)), as_of)  # BR111
    conns[pick[2 % len(pick)]].pop("approved_by", None)  # BR112
    conns[pick[2 % len(pick)]].pop("approved_on", None)

    if not plugins:
        return
    order = rng.permutation(len(plugins)).tolist()
    mega_id = mc["id"]

    def use(plugin: dict[str, Any], cid: str) -> None:
        ids = [c if isinstance(c, str) else c["connector"] for c in plugin["connectors"]]
        if cid in ids:
            plugin["connectors"][ids.index(cid)] = cid  # every tool
        else:
            plugin["connectors"].append(cid)

    # A plugin of another department on the mega-connector (BR101 needs two departments).
    depts = list(dict.fromkeys(d for d, _ in plugins))
    if len(depts) > 1:
        for d in depts[:2]:
            first = next(p for dd, p in plugins if dd == d)
            use(first, mega_id)
    # No kill switch (BR109).
    plugins[order[0]][1].pop("kill_switch", None)
    # Review tier too low on a plugin that writes through the mega-connector (BR113, BR102).
    low = plugins[order[1 % len(order)]][1]
    use(low, mega_id)
    low["review_tier"] = 1
    low.pop("requires_approval", None)
    low.pop("blocked", None)
    # The lethal trifecta (BR116): untrusted input, sensitive reads and an ungated way out.
    untrusted = [
        i
        for i, c in enumerate(conns)
        if any(t.get("untrusted_content") for t in c["tools"])
        and any(t["action"] in ("send", "share") for t in c["tools"])
    ]
    trio = plugins[order[2 % len(order)]][1]
    use(trio, mega_id)
    if untrusted:
        c = conns[untrusted[0]]
        c["access"] = "read-write"
        c.pop("requires_approval", None)
        use(trio, c["id"])
    trio.pop("requires_approval", None)
    trio.pop("blocked", None)
    trio["output"] = "external"
    trio.setdefault("output_audience", 1)


def _governance(conns: list[dict[str, Any]], rng: np.random.Generator) -> dict[str, Any]:
    """The D7 governance config; a few connectors' access, tier and approval move into it."""
    governed: dict[str, Any] = {}
    for conn in conns:
        if rng.random() < 0.1:
            entry = {k: conn.pop(k) for k in ("access", "tier", "approved_by", "approved_on") if k in conn}
            governed[conn["id"]] = entry
    gov: dict[str, Any] = {}
    if governed:
        gov["connectors"] = governed
    gov["review_tiers"] = {
        "1": {"rule": "internal, non-sensitive", "control": "spot-check"},
        "2": {"rule": "leaves org, non-sensitive", "control": "named-reviewer"},
        "3": {"rule": "sensitive-data or system-write", "control": "dual-review + audit"},
    }
    gov["prohibited"] = [
        "auto-send external commitments without review",
        "connector scope expansion without re-approval",
        "PII export to unapproved destinations",
    ]
    gov["audit"] = {"log": ["actor", "connector", "data_scope", "approver", "output_hash"]}
    gov["re_review_days"] = 90
    return gov


_CONNECTOR_KEYS = (
    "id",
    "name",
    "description",
    "system",
    "leaves_org",
    "access",
    "allowed_tables",
    "denied_columns",
    "row_limit",
    "requires_approval",
    "tier",
    "approved_by",
    "approved_on",
    "audit",
    "revocation",
    "tools",
)
_PLUGIN_KEYS = (
    "id",
    "name",
    "description",
    "owner",
    "users",
    "connectors",
    "requires_approval",
    "blocked",
    "output",
    "output_audience",
    "review_tier",
    "skills",
    "kill_switch",
)


def _ordered(record: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: record[k] for k in keys if k in record}


def generate_enterprise(
    *,
    people: int,
    plugins: int,
    connectors: int,
    systems: int,
    datasets: int,
    seed: int | np.random.Generator | None = None,
    as_of: dt.date = AS_OF,
) -> dict[str, Any]:
    """A synthetic enterprise inventory, as file name -> content.

    Parameters
    ----------
    people : int
        Headcount, at least 10; teams' headcounts sum to it exactly.
    plugins, connectors, systems : int
        How many of each, at least 1.
    datasets : int
        How many datasets (tables), at least ``systems``: each system holds one or more.
    seed : int, numpy.random.Generator or None
        Seed of the one random generator; the same seed gives the same inventory.
    as_of : datetime.date
        The date the inventory is written on: approvals and rehearsals are dated before it.

    Returns
    -------
    dict
        ``{"teams.yaml": {...}, "systems.yaml": {...}, "connectors.yaml": {...},
        "governance.yaml": {...}, "plugins/<department>.yaml": {...}, ...,
        "datasets.csv": [row, ...]}``: YAML-able mappings (dates as
        :class:`datetime.date`), and the rows of ``datasets.csv`` as mappings
        with the keys of :data:`DATASET_COLUMNS` (None for an empty cell).

    Raises
    ------
    BlastRadiusError
        A count that is not a whole number or is below its minimum.

    Examples
    --------
    >>> inv = generate_enterprise(people=50, plugins=2, connectors=2, systems=2, datasets=5, seed=3)
    >>> len(inv["connectors.yaml"]["connectors"]), len(inv["datasets.csv"])
    (2, 5)
    """
    _check_counts(people, plugins, connectors, systems, datasets)
    rng = np.random.default_rng(seed)
    teams, teams_by_dept = _teams(int(people), rng)
    kinds = _systems(int(systems), rng)
    system_out, rows, groups = _datasets(kinds, int(datasets), int(people), rng)
    conns, system_of, scoped_to = _connectors(system_out, int(connectors), list(teams_by_dept), rng, as_of)
    conn_kinds = [system_out[s].kind.kind for s in system_of]
    shared_warehouses = [i for i, k in enumerate(conn_kinds) if k == "warehouse" and scoped_to[i] is None]
    mega = shared_warehouses[0] if shared_warehouses else 0
    plugin_list = _plugins(int(plugins), teams_by_dept, conns, conn_kinds, scoped_to, mega, rng, as_of)
    _plant(plugin_list, conns, mega, rng, as_of)
    governance = _governance(conns, rng)

    groups_by_system: dict[str, list[dict[str, Any]]] = {}
    for g in groups:
        sys_id = g.pop("system")
        groups_by_system.setdefault(sys_id, []).append(g)
    system_entries = []
    for s in system_out:
        entry: dict[str, Any] = {"id": s.id, "name": f"{s.id.replace('-', ' ').title()}", "kind": s.kind.kind}
        if s.id in groups_by_system:
            entry["people"] = groups_by_system[s.id]
        system_entries.append(entry)

    files: dict[str, Any] = {
        "teams.yaml": {"teams": teams},
        "systems.yaml": {"systems": system_entries},
        "connectors.yaml": {"connectors": [_ordered(c, _CONNECTOR_KEYS) for c in conns]},
        "governance.yaml": governance,
    }
    by_dept: dict[str, list[dict[str, Any]]] = {}
    for d, p in plugin_list:
        by_dept.setdefault(d, []).append(_ordered(p, _PLUGIN_KEYS))
    for d in sorted(by_dept):
        files[f"plugins/{d}.yaml"] = {"plugins": by_dept[d]}
    files["datasets.csv"] = rows
    return dict(sorted(files.items()))


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------

try:  # the C emitter is several times faster on large inventories
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Dumper = yaml.SafeDumper


def _csv_text(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DATASET_COLUMNS)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in DATASET_COLUMNS])
    return buffer.getvalue()


def write_enterprise(
    out: str | Path,
    *,
    people: int,
    plugins: int,
    connectors: int,
    systems: int,
    datasets: int,
    seed: int | np.random.Generator | None = None,
    as_of: dt.date = AS_OF,
) -> Path:
    """Generate a synthetic enterprise (see :func:`generate_enterprise`) and write it as an inventory directory.

    Parameters
    ----------
    out : str or Path
        Directory to write; created if missing, refused if it holds anything.
    people, plugins, connectors, systems, datasets, seed, as_of
        As for :func:`generate_enterprise`.

    Returns
    -------
    Path
        ``out``; ``blastradius.load_inventory(out).summary()`` describes what was written.

    Raises
    ------
    BlastRadiusError
        ``out`` is a file or a non-empty directory, or a count is invalid.

    Examples
    --------
    >>> import tempfile
    >>> from blastradius import load_inventory
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = write_enterprise(
    ...         Path(tmp) / "corp", people=80, plugins=3, connectors=3, systems=3, datasets=9, seed=5
    ...     )
    ...     load_inventory(path).summary()["plugins"]
    3
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise BlastRadiusError(f"cannot write a synthetic enterprise to {out}: it is a file, not a directory")
    if out.is_dir() and any(out.iterdir()):
        raise BlastRadiusError(
            f"cannot write a synthetic enterprise to {out}: the directory is not empty (give a new or empty directory)"
        )
    files = generate_enterprise(
        people=people,
        plugins=plugins,
        connectors=connectors,
        systems=systems,
        datasets=datasets,
        seed=seed,
        as_of=as_of,
    )
    out.mkdir(parents=True, exist_ok=True)
    seed_text = seed if seed is None or isinstance(seed, int | np.integer) else "a numpy Generator"
    header = (
        f"# Synthetic enterprise written by blastradius.synth on {as_of} (seed {seed_text}):\n"
        f"# {people:,} people, {plugins:,} plugins, {connectors:,} connectors, "
        f"{systems:,} systems, {datasets:,} datasets.\n"
    )
    for name, content in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".csv"):
            text = _csv_text(content)
        else:
            text = header + yaml.dump(content, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
        path.write_text(text, encoding="utf-8")
    return out
