CREATE TABLE tenants (
    id                  uuid PRIMARY KEY,
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug                text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,99}$'),
    business_model      text NOT NULL
                        CHECK (business_model IN ('individual_bakery', 'central_baker_satellite', 'central_baker')),
    city                text NOT NULL,
    country             text NOT NULL DEFAULT 'ES',
    timezone            text NOT NULL DEFAULT 'Europe/Madrid',
    -- demo flags
    is_demo             boolean NOT NULL DEFAULT false,
    is_demo_template    boolean NOT NULL DEFAULT false,
    demo_account_type   text CHECK (demo_account_type IN ('individual_bakery', 'central_baker_satellite')),
    base_demo_tenant_id uuid REFERENCES tenants (id),
    demo_session_id     text UNIQUE,
    demo_expires_at     timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- a virtual tenant is never a template, and always knows its template, session and end
    CONSTRAINT tenants_demo_or_template CHECK (NOT (is_demo AND is_demo_template)),
    CONSTRAINT tenants_virtual_complete CHECK (
        NOT is_demo OR (base_demo_tenant_id IS NOT NULL AND demo_session_id IS NOT NULL
                        AND demo_expires_at IS NOT NULL AND demo_account_type IS NOT NULL)),
    CONSTRAINT tenants_template_typed CHECK (NOT is_demo_template OR demo_account_type IS NOT NULL)
);
CREATE INDEX tenants_demo_expires_idx ON tenants (demo_expires_at) WHERE is_demo;
CREATE UNIQUE INDEX tenants_one_template_per_type ON tenants (demo_account_type) WHERE is_demo_template;

CREATE TABLE users (
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            uuid NOT NULL,
    email         text NOT NULL CHECK (position('@' IN email) > 1),
    password_hash text NOT NULL,
    full_name     text NOT NULL,
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    is_active     boolean NOT NULL DEFAULT true,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
-- one account per address across every tenant: login looks users up by email
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Row-level security, the second wall behind query scoping. FORCE makes it apply to the
-- table owner too (the services connect as the owner role, which is not a superuser).
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants
    USING (app_all_tenants() OR id = app_current_tenant())
    WITH CHECK (app_all_tenants() OR id = app_current_tenant());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (app_all_tenants() OR tenant_id = app_current_tenant())
    WITH CHECK (app_all_tenants() OR tenant_id = app_current_tenant());
