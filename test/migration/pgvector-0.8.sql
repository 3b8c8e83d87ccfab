--
-- PostgreSQL database dump
--
-- test/migration/pgvector-0.8.sql: written by hand in the shape pg_dump 15
-- gives for a database using pgvector 0.8 (plain format, default options).
-- Restored with `psql -v ON_ERROR_STOP=1` into a server that has vecx
-- installed under the name vector (make install-vector-name); the queries
-- of test/vecname/sql/migration.sql check the result.
--
-- Lines marked `-- NEEDS:ivfflat` or `-- NEEDS:hnsw-sparse-bit` are
-- statements of the dump that vecx cannot restore yet; remove the marker
-- (sed -i 's/^-- NEEDS:ivfflat //') once the feature exists, and update
-- test/vecname/expected/migration.out.
--

-- Dumped from database version 15.8 (Debian 15.8-1.pgdg120+1)
-- Dumped by pg_dump version 15.8 (Debian 15.8-1.pgdg120+1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: vector; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;


--
-- Name: EXTENSION vector; Type: COMMENT; Schema: -; Owner: 
--

COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';


--
-- Name: match_items(public.vector, integer); Type: FUNCTION; Schema: public; Owner: postgres
--

CREATE FUNCTION public.match_items(query_embedding public.vector, match_count integer) RETURNS TABLE(id bigint, distance double precision)
    LANGUAGE sql STABLE
    AS $$
  SELECT items.id, items.embedding <=> query_embedding AS distance
  FROM items
  ORDER BY items.embedding <=> query_embedding, items.id
  LIMIT match_count;
$$;


ALTER FUNCTION public.match_items(query_embedding public.vector, match_count integer) OWNER TO postgres;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: documents; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.documents (
    id integer NOT NULL,
    title text,
    embedding public.vector,
    chunks public.vector(2)[],
    CONSTRAINT documents_embedding_check CHECK ((public.vector_dims(embedding) <= 4))
);


ALTER TABLE public.documents OWNER TO postgres;

--
-- Name: items; Type: TABLE; Schema: public; Owner: postgres
--

CREATE TABLE public.items (
    id bigint NOT NULL,
    embedding public.vector(3),
    half public.halfvec(3),
    sparse public.sparsevec(5),
    bits bit(8),
    category integer,
    norm double precision GENERATED ALWAYS AS (public.vector_norm(embedding)) STORED
);


ALTER TABLE public.items OWNER TO postgres;

--
-- Name: category_centroids; Type: MATERIALIZED VIEW; Schema: public; Owner: postgres
--

CREATE MATERIALIZED VIEW public.category_centroids AS
 SELECT items.category,
    public.avg(items.embedding) AS centroid,
    public.sum(items.half) AS half_sum,
    count(*) AS n
   FROM public.items
  GROUP BY items.category
  WITH NO DATA;


ALTER TABLE public.category_centroids OWNER TO postgres;

--
-- Name: items_id_seq; Type: SEQUENCE; Schema: public; Owner: postgres
--

CREATE SEQUENCE public.items_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


ALTER TABLE public.items_id_seq OWNER TO postgres;

--
-- Name: items_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: postgres
--

ALTER SEQUENCE public.items_id_seq OWNED BY public.items.id;


--
-- Name: nearest_items; Type: VIEW; Schema: public; Owner: postgres
--

CREATE VIEW public.nearest_items AS
 SELECT items.id,
    (items.embedding OPERATOR(public.<->) '[1,1,1]'::public.vector) AS l2,
    public.cosine_distance(items.embedding, '[1,2,3]'::public.vector) AS cosine,
    (items.half OPERATOR(public.<#>) '[1,0,1]'::public.halfvec) AS neg_ip,
    public.l1_distance(items.half, '[0,0,0]'::public.halfvec) AS half_l1,
    (items.sparse OPERATOR(public.<+>) '{1:1}/5'::public.sparsevec) AS sparse_l1,
    public.l2_norm(items.sparse) AS sparse_norm,
    (items.bits OPERATOR(public.<~>) '10101010'::"bit") AS hamming,
    public.jaccard_distance(items.bits, '11110000'::"bit") AS jaccard,
    public.vector_dims(items.embedding) AS dims,
    public.l2_normalize(items.embedding) AS normalized,
    public.binary_quantize(items.embedding) AS quantized,
    public.subvector(items.embedding, 2, 2) AS tail,
    ((items.embedding)::public.halfvec(3) OPERATOR(public.-) items.half) AS diff
   FROM public.items;


ALTER TABLE public.nearest_items OWNER TO postgres;

--
-- Name: items id; Type: DEFAULT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.items ALTER COLUMN id SET DEFAULT nextval('public.items_id_seq'::regclass);


--
-- Data for Name: documents; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.documents (id, title, embedding, chunks) FROM stdin;
1	doc 1	[-0.548,-0.884,-0.344,-0.288]	{"[3,4]","[1,4]"}
2	doc 2	[0.949,0.582,0.973,0.256]	{"[2,1]","[0,5]"}
3	doc 3	[0.461,-0.968,-0.912,0.221]	{"[2,4]","[1,2]"}
4	doc 4	[-0.946,0.393]	{"[5,4]","[4,1]"}
5	doc 5	[-0.453,0.447,0.338,-0.307]	{"[5,2]","[5,5]"}
6	doc 6	[-0.272,-0.11]	{"[4,5]","[1,4]"}
7	doc 7	[0.65,0.063,0.916,0.522]	{"[0,2]","[2,4]"}
8	doc 8	[-0.453,-1]	{"[3,5]","[3,5]"}
9	doc 9	[0.699,0.384]	{"[1,5]","[4,0]"}
10	doc 10	[0.675,0.118,0.262,0.547]	{"[4,4]","[1,3]"}
\.


--
-- Data for Name: items; Type: TABLE DATA; Schema: public; Owner: postgres
--

COPY public.items (id, embedding, half, sparse, bits, category) FROM stdin;
1	[-1,1,1.5]	[-1,-0.5,-1.75]	{}/5	00010111	1
2	[1.5,3,4.5]	[-0.5,1,-1.5]	{1:2.5,2:4.5,3:3.5}/5	11010011	2
3	[-3,-4,0.5]	[-0.25,-1.5,1.75]	{5:1.5}/5	00100111	3
4	[4,1,2]	[-1,-0.75,-1.25]	{3:4.5,4:2}/5	10110010	0
5	[-4.5,0,0.5]	[-0.25,0,-1.75]	{2:3.5,3:1.5,4:3.5}/5	00000100	1
6	[1.5,0.5,-2]	[1.25,-0.25,-1]	{2:3.5,4:1,5:1}/5	10000101	2
7	[0,0,0]	[-2,-1,0.5]	{1:2.5,3:3,5:3}/5	10100000	3
8	[0.5,2,2.5]	[-1.25,-1.5,-0.5]	{4:4}/5	01001010	0
9	[3,4.5,1.5]	[0.75,1.5,-0.25]	{}/5	00100000	1
10	[1,2,3.5]	[-1.5,2,-0.5]	{3:4.5}/5	10011011	2
11	[-1,0,-3.5]	[1.25,0.75,0.5]	{3:1,5:2}/5	11110111	3
12	[3.5,1,4.5]	[0.75,1.25,-0.5]	{1:1.5,2:1,5:4}/5	11011111	0
13	\N	[-0.25,-0.25,2]	{2:4.5,3:2,5:3}/5	10010010	1
14	[-2.5,-4.5,-1.5]	[0,-1.5,-1.25]	{3:1,4:1.5,5:3}/5	01000100	2
15	[-4,0.5,-1]	[0.25,0.75,0.5]	{}/5	01100110	3
16	[2,-3.5,-3]	[-0.25,-1.5,0.25]	{3:2}/5	00000110	0
17	[3.5,3,-3]	[-1.5,-1,-1]	{3:2}/5	10001011	1
18	[2,2,4.5]	[0.75,1.75,0.75]	{3:2.5}/5	10111010	2
19	[3,3,-3]	[0.25,1,-1.75]	{}/5	11110000	3
20	[-2,2.5,4.5]	[-1,1.25,-1.25]	{1:3,5:3}/5	01010011	0
21	[4.5,1,1]	[1.25,0.75,-1.75]	{3:0.5}/5	00111101	1
22	[-2.5,-0.5,-4.5]	[1.5,0.25,0]	{2:4,3:4,5:1}/5	11100111	2
23	[3,4.5,1.5]	[-0.5,2,-0.75]	{5:0.5}/5	01001100	3
24	[-4.5,-4,2.5]	[-0.5,0.5,0.5]	{}/5	00011000	0
25	[0.5,0.5,-3.5]	[1.25,-0.25,-2]	{}/5	01101000	1
26	[1,2,-4]	[0,1.25,-0.5]	{}/5	10110001	2
27	[0,-0.5,0]	[2,0,-2]	{1:1,2:4,5:1.5}/5	10011111	3
28	[-2.5,-2,3]	[-1.25,-0.25,2]	{2:4.5,5:2}/5	01010101	0
29	[0.5,4.5,-2.5]	[-0.25,1,-2]	{3:2.5,4:1}/5	01110110	1
30	[-4.5,-4.5,3.5]	[0.5,0.75,1.75]	{}/5	00011000	2
31	[-1,-3.5,-4]	[0.5,0.75,1]	{2:4,4:2.5}/5	01100111	3
32	[-2,-3,4.5]	[2,-0.75,0.5]	{4:1,5:4}/5	01011011	0
33	[-3.5,-1,4]	[1.75,1.5,0.25]	{4:4.5}/5	00100100	1
34	[-2,-2,3]	[0.5,-0.25,-0.5]	{1:4.5,2:3,4:2.5}/5	01001111	2
35	[-3,-3,-1.5]	[1.75,1.25,1.5]	{}/5	00101111	3
36	[-3,1.5,3]	[1.25,-1,-1.5]	{2:4}/5	01000110	0
37	[-2,3.5,0.5]	[1.25,0.25,-1]	{4:0.5}/5	00000011	1
38	[4,1.5,-3.5]	[1.5,0.25,-1.5]	{2:3,4:4,5:2}/5	10001101	2
39	[1,-4,-2]	[-1.5,1.75,-1.75]	{}/5	00100111	3
40	[-3.5,-1,-1.5]	[2,-0.25,0]	{}/5	10000110	0
\.


--
-- Name: items_id_seq; Type: SEQUENCE SET; Schema: public; Owner: postgres
--

SELECT pg_catalog.setval('public.items_id_seq', 40, true);


--
-- Name: documents documents_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.documents
    ADD CONSTRAINT documents_pkey PRIMARY KEY (id);


--
-- Name: items items_pkey; Type: CONSTRAINT; Schema: public; Owner: postgres
--

ALTER TABLE ONLY public.items
    ADD CONSTRAINT items_pkey PRIMARY KEY (id);


--
-- Name: items_bits_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_bits_idx ON public.items USING hnsw (bits public.bit_hamming_ops);


--
-- Name: items_bits_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_bits_idx1 ON public.items USING hnsw (bits public.bit_jaccard_ops) WITH (m='4');


--
-- Name: items_bits_idx2; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_bits_idx2 ON public.items USING ivfflat (bits public.bit_hamming_ops) WITH (lists='2');


--
-- Name: items_embedding_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_embedding_idx ON public.items USING hnsw (embedding public.vector_l2_ops);


--
-- Name: items_embedding_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_embedding_idx1 ON public.items USING hnsw (embedding public.vector_cosine_ops) WITH (m='8', ef_construction='32');


--
-- Name: items_embedding_idx2; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_embedding_idx2 ON public.items USING hnsw (embedding public.vector_l1_ops) WHERE (category = 1);


--
-- Name: items_embedding_idx3; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_embedding_idx3 ON public.items USING ivfflat (embedding public.vector_ip_ops) WITH (lists='4');


--
-- Name: items_embedding_idx4; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_embedding_idx4 ON public.items USING btree (embedding);


--
-- Name: items_expr_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_expr_idx ON public.items USING hnsw (((embedding)::public.halfvec(3)) public.halfvec_l2_ops);


--
-- Name: items_half_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_half_idx ON public.items USING hnsw (half public.halfvec_ip_ops);


--
-- Name: items_half_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_half_idx1 ON public.items USING ivfflat (half public.halfvec_cosine_ops) WITH (lists='2');


--
-- Name: items_sparse_idx; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_sparse_idx ON public.items USING hnsw (sparse public.sparsevec_l2_ops);


--
-- Name: items_sparse_idx1; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_sparse_idx1 ON public.items USING hnsw (sparse public.sparsevec_ip_ops) WITH (m='4', ef_construction='16');


--
-- Name: items_sparse_idx2; Type: INDEX; Schema: public; Owner: postgres
--

CREATE INDEX items_sparse_idx2 ON public.items USING btree (sparse);


--
-- Name: category_centroids; Type: MATERIALIZED VIEW DATA; Schema: public; Owner: postgres
--

REFRESH MATERIALIZED VIEW public.category_centroids;


--
-- PostgreSQL database dump complete
--

