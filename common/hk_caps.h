/* Every cap on a buffer or queue fed from the network, in one place.
 * Growable buffers refuse to grow past their cap (HK_ERR_TOO_LARGE).
 * Modules add their caps here, with a comment saying what each bounds. */
#ifndef HK_CAPS_H
#define HK_CAPS_H

/* ---- intake (hook/) ---- */
#define HK_CAP_HTTP_BODY_DEFAULT                                                                   \
	(256u * 1024u) /* POST /v1/events body (config: limits.max_body_bytes) */
#define HK_CAP_HTTP_HEADERS_SIZE (16u * 1024u) /* all request headers together */
#define HK_CAP_HTTP_CONNECTIONS	 1024u	       /* concurrent intake connections */
#define HK_CAP_JSON_DEPTH	 32u	       /* nesting of any JSON we parse */
#define HK_CAP_METADATA_LEN	 4000u	       /* NotificationMetadata (AWS limit) */

/* ---- AWS client (aws/) ---- */
#define HK_CAP_AWS_RESPONSE_BODY    (8u * 1024u * 1024u) /* one AWS response body */
#define HK_CAP_AWS_ERROR_BODY	    (64u * 1024u)	 /* error bodies kept for diagnosis */
#define HK_CAP_AWS_RESPONSE_HEADERS 100u		 /* response header lines kept */
#define HK_CAP_XML_DEPTH	    64u			 /* XML element nesting */
#define HK_CAP_AWS_PAGES	    1000u		 /* NextToken pages followed per Describe */
#define HK_CAP_AWS_ATTEMPTS	    8u			 /* attempts per call, default */
#define HK_CAP_CREDS_BODY	    (64u * 1024u) /* IMDS / container / STS credential responses */
#define HK_CAP_CREDS_FILE	    (1024u * 1024u) /* shared credentials/config file, token file */

/* ---- AWS client core (aws/httpc.c, aws/creds.c, aws/awc.c) ---- */
#define HK_CAP_AWS_HEADER_LINE	 (8u * 1024u) /* one response header line; longer ones dropped */
#define HK_CAP_CREDS_WAITERS	 4096u	      /* calls waiting for one credentials fetch */
#define HK_CAP_AWS_PENDING_CALLS 10000u	      /* AWS calls queued or in flight per client */

/* ---- AWS typed calls (aws/awscalls.h: ec2_*.c, asg.c, sts.c, sqs.c) ---- */
#define HK_CAP_AWS_ITEMS      100000u /* top-level items one typed call delivers, all pages */
#define HK_CAP_AWS_SUBITEMS   10000u  /* one nested list of one item (tags, IPs, ENIs, members) */
#define HK_CAP_AWS_TYPE_CACHE 512u    /* instance types cached per client */

/* ---- hook/ service files (config, secrets, admin listing) ---- */
#define HK_CAP_CONFIG_FILE (1024u * 1024u) /* the --config JSON file */
#define HK_CAP_SECRET_FILE 4096u	   /* auth value / password file */
#define HK_CAP_ADMIN_LIST  1000u	   /* GET /v1/actions ?limit= ceiling */
#define HK_CAP_SNS_MESSAGE (64u * 1024u)   /* SNS envelope Message string */

/* ---- SNS and SQS intake (hook/intake/sns.c, hook/intake/sqs.c) ---- */
#define HK_CAP_SNS_URL		(2u * 1024u) /* SigningCertURL, SubscribeURL */
#define HK_CAP_SNS_FIELD	(2u * 1024u) /* other envelope strings (ids, ARN, token, signature) */
#define HK_CAP_SNS_CERT		(64u * 1024u)  /* signing certificate PEM download */
#define HK_CAP_SNS_CERT_CACHE	16u	       /* signing certificates cached, by URL */
#define HK_CAP_SNS_WAITERS	256u	       /* requests waiting on certificate fetches */
#define HK_CAP_SNS_CONFIRM_BODY (64u * 1024u)  /* SubscribeURL response body */
#define HK_CAP_SNS_TOPICS	100u	       /* sns.topic_arns entries */
#define HK_CAP_SQS_BODY		(256u * 1024u) /* one SQS message body (the SQS maximum) */

#endif
