-- A dental clinic's database for the benchmark: realistic text and numbers, some bytea.
-- psql -v scale=1 (about 1 GB at scale 1). Safe to run only into an empty database.
\set ON_ERROR_STOP on
CREATE TABLE words (i int PRIMARY KEY, w text NOT NULL);
INSERT INTO words SELECT i, (ARRAY['tooth','molar','incisor','canine','premolar','filling','crown','bridge','implant','root','canal','gum',
  'plaque','scaling','polish','fluoride','sealant','x-ray','panoramic','bite','occlusion','enamel','dentin','pulp','abscess','extraction',
  'anaesthetic','sensitive','pain','swelling','follow-up','patient','reports','mild','severe','left','right','upper','lower','composite',
  'amalgam','ceramic','temporary','permanent','review','hygiene','brushing','flossing','advice','allergy'])[i] FROM generate_series(1, 50) i;

CREATE FUNCTION sentence(seed int, n int) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT string_agg(w, ' ' ORDER BY k) FROM generate_series(1, n) k JOIN words ON words.i = 1 + ((seed::bigint * 7919 + k * 104729) % 50) $$;

CREATE TABLE patients (id serial PRIMARY KEY, first_name text NOT NULL, last_name text NOT NULL, born date NOT NULL,
  phone text, email text, address text, insurance_number text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE appointments (id bigserial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), starts_at timestamptz NOT NULL,
  duration_minutes int NOT NULL, dentist text NOT NULL, reason text NOT NULL, status text NOT NULL);
CREATE TABLE treatments (id bigserial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), tooth smallint,
  procedure text NOT NULL, price numeric(10,2) NOT NULL, performed_on date NOT NULL, notes text);
CREATE TABLE invoices (id bigserial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), issued_on date NOT NULL,
  amount numeric(10,2) NOT NULL, paid boolean NOT NULL, lines jsonb NOT NULL);
CREATE TABLE clinical_notes (id bigserial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), written_at timestamptz NOT NULL, body text NOT NULL);
CREATE TABLE attachments (id bigserial PRIMARY KEY, patient_id int NOT NULL REFERENCES patients(id), kind text NOT NULL, thumbnail bytea NOT NULL);

INSERT INTO patients (first_name, last_name, born, phone, email, address, insurance_number)
SELECT (ARRAY['Anna','Ben','Chloé','David','Emma','Farid','Greta','Hugo','Ines','Jonas'])[1 + g % 10],
       (ARRAY['Martin','Bernard','Dubois','Thomas','Robert','Richard','Petit','Durand','Leroy','Moreau'])[1 + (g / 10) % 10] || '-' || g,
       date '1935-01-01' + ((g::bigint * 7919) % 30000)::int, '+33 6 ' || lpad(((g::bigint * 7717) % 100000000)::text, 8, '0'),
       'patient' || g || '@example.org', g || ' rue ' || sentence(g, 2) || ', 75000 Paris', 'FR' || lpad(g::text, 13, '0')
FROM generate_series(1, (100000 * :scale)::int) g;

INSERT INTO appointments (patient_id, starts_at, duration_minutes, dentist, reason, status)
SELECT 1 + g % (100000 * :scale)::int, timestamptz '2020-01-06 08:00+00' + (g % 2500) * interval '1 day' + (g % 9) * interval '1 hour',
       (ARRAY[15, 30, 45, 60])[1 + g % 4], (ARRAY['Dr. Lambert','Dr. Rousseau','Dr. Nguyen','Dr. Haddad'])[1 + g % 4],
       sentence(g, 4), (ARRAY['done','done','done','cancelled','no-show'])[1 + g % 5]
FROM generate_series(1, (1000000 * :scale)::int) g;

INSERT INTO treatments (patient_id, tooth, procedure, price, performed_on, notes)
SELECT 1 + (g::bigint * 13) % (100000 * :scale)::int, 11 + g % 38, (ARRAY['Composite filling','Scaling','Root canal','Crown','Extraction','Implant'])[1 + g % 6],
       (ARRAY[60, 45, 380, 650, 90, 1200])[1 + g % 6] + (g % 100) / 10.0, date '2019-01-01' + g % 2600, sentence(g, 12)
FROM generate_series(1, (600000 * :scale)::int) g;

INSERT INTO invoices (patient_id, issued_on, amount, paid, lines)
SELECT 1 + (g::bigint * 17) % (100000 * :scale)::int, date '2019-01-01' + g % 2600, 20 + (g % 2000) / 3.0, g % 7 <> 0,
       jsonb_build_array(jsonb_build_object('code', 'HBLD' || (g % 90), 'label', sentence(g, 3), 'amount', 20 + g % 300))
FROM generate_series(1, (500000 * :scale)::int) g;

INSERT INTO clinical_notes (patient_id, written_at, body)
SELECT 1 + (g::bigint * 31) % (100000 * :scale)::int, timestamptz '2019-01-01' + g * interval '7 minutes', sentence(g, 120)
FROM generate_series(1, (400000 * :scale)::int) g;

INSERT INTO attachments (patient_id, kind, thumbnail)
SELECT 1 + (g::bigint * 37) % (100000 * :scale)::int, (ARRAY['bitewing','panoramic','intraoral photo'])[1 + g % 3],
       decode(string_agg(md5((g::bigint * 1000 + k)::text), ''), 'hex')
FROM generate_series(1, (60000 * :scale)::int) g, generate_series(1, 128) k GROUP BY g;

CREATE INDEX ON appointments (patient_id);
CREATE INDEX ON treatments (patient_id);
CREATE INDEX ON clinical_notes (patient_id);
DROP FUNCTION sentence(int, int);
ANALYZE words, patients, appointments, treatments, invoices, clinical_notes, attachments; -- the owner's tables (the catalogs need a superuser)
