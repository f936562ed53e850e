//! `lightbox demo`'s library: a festival account with an admin, a tree of
//! sets, fifteen generated photographs of different scenes, sizes and
//! orientations (one a PNG) and a four-second video, with their captions,
//! alt texts, keywords, credits, copyright and ratings, a public and a press
//! website, and an image under embargo that goes live a few minutes after
//! each start.
//!
//! Everything is made through the core's use-cases, as the API makes it.
//! The library is made once; a restart on the same data dir reuses it and
//! only mints a new token and admin password, adds a website that is missing
//! and renews the embargo.

use lightbox_core::auth::Principal;
use lightbox_core::clock::format_rfc3339;
use lightbox_core::edits::{self, AltTextBody, CreditBody, Edit, MetadataPatch, RatingBody};
use lightbox_core::scope::Scope;
use lightbox_core::set_arrangement::{self, Arrangement, MembersBody, VisibilityBody};
use lightbox_core::sets::{Colour, NewSet, Set, SetNode, SetType};
use lightbox_core::tokens::NewServiceToken;
use lightbox_core::uploads::{self, NewUpload, Uploader};
use lightbox_core::websites::{self, Downloads, NewWebsite, Website, WebsiteType};
use lightbox_core::writes::WriteContext;
use lightbox_core::{Core, CoreError, accounts, ids, sets, tokens, users};
use lightbox_media::fixtures::{FixtureMeta, Palette, Scene};

use crate::Failure;

/// The demo's admin login (its password is new at every start).
pub const ADMIN: &str = "admin@demo.example";
/// The demo account's unique id.
const ACCOUNT: &str = "demo";
/// How long after each start the embargoed image goes live.
const EMBARGO_SECS: i64 = 180;
/// The embargoed image (in [`EMBARGO_SET`]).
const EMBARGO_FILE: &str = "DSC_0112.jpg";
const EMBARGO_SET: &str = "Main stage";

/// What a start of the demo prints.
pub struct Seeded {
    /// A new all-scope service token.
    pub token: String,
    /// The admin's new password.
    pub password: String,
    /// The demo's websites (public first).
    pub websites: Vec<Website>,
    /// When the embargoed image goes live (RFC 3339), and its title.
    pub embargo: Option<(String, String)>,
}

// --- the library ---------------------------------------------------------------

/// The sets: (name, parent, type, colour, description).
const SETS: [(&str, Option<&str>, SetType, Colour, &str); 7] = [
    (
        "Festival",
        None,
        SetType::Gallery,
        Colour::Orange,
        "Brightwater Festival 2026: two days of music by the sea.",
    ),
    (
        "Friday",
        Some("Festival"),
        SetType::Gallery,
        Colour::Yellow,
        "Opening night.",
    ),
    (
        "Saturday",
        Some("Festival"),
        SetType::Gallery,
        Colour::Purple,
        "From dawn at the beach to the headliner's encore.",
    ),
    (
        "Main stage",
        Some("Saturday"),
        SetType::Gallery,
        Colour::Blue,
        "Saturday night on the main stage.",
    ),
    (
        "Portraits",
        Some("Festival"),
        SetType::Gallery,
        Colour::Pink,
        "The artists backstage.",
    ),
    (
        "Press kit",
        None,
        SetType::Press,
        Colour::Green,
        "Selected pictures for the press, free to use with credit.",
    ),
    (
        "Internal",
        None,
        SetType::Private,
        Colour::Grey,
        "Crew pictures, not for publication.",
    ),
];

const DUSK: Palette = Palette {
    top: [38, 42, 104],
    bottom: [236, 120, 64],
    light: [255, 206, 120],
};
const GOLDEN: Palette = Palette {
    top: [110, 150, 205],
    bottom: [250, 200, 140],
    light: [255, 230, 170],
};
const DAWN: Palette = Palette {
    top: [96, 140, 196],
    bottom: [232, 180, 170],
    light: [255, 236, 200],
};
const MAGENTA: Palette = Palette {
    top: [120, 30, 140],
    bottom: [20, 10, 40],
    light: [255, 80, 170],
};
const CYAN: Palette = Palette {
    top: [20, 90, 160],
    bottom: [10, 20, 40],
    light: [80, 230, 255],
};
const AMBER: Palette = Palette {
    top: [160, 70, 20],
    bottom: [30, 10, 5],
    light: [255, 180, 60],
};
const LASER: Palette = Palette {
    top: [10, 120, 60],
    bottom: [5, 20, 15],
    light: [120, 255, 120],
};
const TEAL: Palette = Palette {
    top: [30, 110, 120],
    bottom: [10, 40, 50],
    light: [190, 240, 230],
};
const CRIMSON: Palette = Palette {
    top: [150, 30, 40],
    bottom: [40, 10, 15],
    light: [255, 160, 120],
};

/// The demo's video: a 4 s, 640×360 H.264 clip of sweeping stage colours
/// (27 KB), made once by ffmpeg and kept as a file, so the demo needs no
/// encoder to have a video (its poster frame needs ffmpeg, as every video's
/// does):
/// `ffmpeg -f lavfi -i "gradients=s=640x360:d=4:r=25:c0=0x0b1026:c1=0x7c3aed:c2=0xf97316:c3=0x0b1026:c4=0xec4899:n=5:speed=0.03:type=linear:x0=0:y0=0:x1=640:y1=360" -vf format=yuv420p -c:v libx264 -preset veryslow -crf 32 -movflags +faststart -metadata creation_time=2026-07-10T20:41:07Z -metadata location=+50.3573-004.4547/ demo-light-sweep.mp4`
const CLIP: &[u8] = include_bytes!("../assets/demo-light-sweep.mp4");

/// One generated photograph (or the video) and what the library says of it.
struct Photo {
    file: &'static str,
    size: (u32, u32),
    scene: Scene,
    palette: Palette,
    title: &'static str,
    caption: &'static str,
    alt: &'static str,
    keywords: &'static [&'static str],
    /// Exif form.
    taken: &'static str,
    rating: i64,
    photographer: &'static str,
    /// The first is the set it is uploaded into.
    sets: &'static [&'static str],
}

impl Photo {
    fn is_png(&self) -> bool {
        self.file.ends_with(".png")
    }

    /// The file: a JPEG with its Exif, IPTC and XMP, a plain PNG, or the
    /// video.
    fn bytes(&self, seed: u32) -> Vec<u8> {
        use lightbox_media::fixtures::{jpeg_of_pixels_with_metadata, png_of_pixels, scene_pixels};
        if self.file.ends_with(".mp4") {
            return CLIP.to_vec();
        }
        let (w, h) = self.size;
        let pixels = scene_pixels(w, h, self.scene, self.palette, seed);
        if self.is_png() {
            return png_of_pixels(w, h, pixels);
        }
        let copyright = copyright(self.photographer);
        // Near the festival's field, a few metres apart.
        let spread = f64::from(seed % 7) * 0.0004;
        let meta = FixtureMeta {
            gps: Some((50.3571 + spread, -4.4545 - spread)),
            taken_at: Some(self.taken),
            offset: Some("+01:00"),
            make: Some("FUJIFILM"),
            model: Some("X-T5"),
            lens: Some("XF16-55mmF2.8 R LM WR"),
            iso: Some(if self.scene == Scene::Sunset {
                200
            } else {
                3200
            }),
            caption: Some(self.caption),
            keywords: self.keywords,
            creator: Some(self.photographer),
            copyright: Some(&copyright),
            title: Some(self.title),
            orientation: Some(1),
        };
        jpeg_of_pixels_with_metadata(w, h, &pixels, &meta)
    }
}

fn copyright(photographer: &str) -> String {
    format!("© 2026 Brightwater Festival / {photographer}")
}

const INES: &str = "Ines Duarte";
const TOM: &str = "Tom Achterberg";
const LEA: &str = "Lea Marchetti";

static PHOTOS: [Photo; 16] = [
    Photo {
        file: "DSC_0101.jpg",
        size: (2000, 1125),
        scene: Scene::Sunset,
        palette: DUSK,
        title: "Sunset over the campsite",
        caption: "The sun goes down behind the campsite on the opening night.",
        alt: "An orange sky over a dark tree line at dusk",
        keywords: &["sunset", "campsite", "day:Friday"],
        taken: "2026:07:10 21:32:10",
        rating: 5,
        photographer: INES,
        sets: &["Friday", "Festival", "Press kit"],
    },
    Photo {
        file: "DSC_0102.jpg",
        size: (1600, 1067),
        scene: Scene::StageLights,
        palette: MAGENTA,
        title: "Marina opens the main stage",
        caption: "Marina's first song, under a fan of magenta beams.",
        alt: "Pink and violet spotlights fanning down through haze onto a dark stage",
        keywords: &[
            "stage",
            "lights",
            "artist:Marina",
            "stage:Main",
            "day:Friday",
        ],
        taken: "2026:07:10 20:05:42",
        rating: 4,
        photographer: TOM,
        sets: &["Friday"],
    },
    Photo {
        file: "MVI_0107.mp4",
        // The clip's own size; scene and palette are the photographs'.
        size: (640, 360),
        scene: Scene::StageLights,
        palette: MAGENTA,
        title: "Light check before the opening",
        caption: "The lighting crew runs the colours across the main stage before the doors open.",
        alt: "Violet, orange and pink light sweeping across a dark stage",
        keywords: &["video", "lights", "stage:Main", "day:Friday"],
        taken: "2026:07:10 21:41:07",
        rating: 3,
        photographer: TOM,
        sets: &["Friday"],
    },
    Photo {
        file: "DSC_0103.jpg",
        size: (1067, 1600),
        scene: Scene::Portrait,
        palette: CRIMSON,
        title: "Marina backstage",
        caption: "Marina before the show, against the red curtain.",
        alt: "The silhouette of a singer's head and shoulders against a red backdrop",
        keywords: &["portrait", "backstage", "artist:Marina"],
        taken: "2026:07:10 19:40:03",
        rating: 4,
        photographer: LEA,
        sets: &["Portraits", "Press kit"],
    },
    Photo {
        file: "DSC_0104.jpg",
        size: (1600, 1067),
        scene: Scene::Crowd,
        palette: AMBER,
        title: "The crowd for The Lumens",
        caption: "Hands in the air as The Lumens start their set.",
        alt: "A crowd in silhouette, some arms raised, against an amber stage glow",
        keywords: &["crowd", "artist:The Lumens", "stage:Main", "day:Friday"],
        taken: "2026:07:10 22:14:55",
        rating: 3,
        photographer: TOM,
        sets: &["Friday"],
    },
    Photo {
        file: "DSC_0105.jpg",
        size: (1200, 1200),
        scene: Scene::StageLights,
        palette: CYAN,
        title: "The Lumens light show",
        caption: "The Lumens close Friday night in a wall of cyan light.",
        alt: "Cyan and white light beams crossing above a dark stage",
        keywords: &[
            "stage",
            "lights",
            "artist:The Lumens",
            "stage:Main",
            "day:Friday",
        ],
        taken: "2026:07:10 23:01:17",
        rating: 5,
        photographer: INES,
        sets: &["Friday", "Press kit"],
    },
    Photo {
        file: "DSC_0106.jpg",
        size: (2000, 1125),
        scene: Scene::Sea,
        palette: DAWN,
        title: "Dawn at the beach stage",
        caption: "First light over the bay, before the beach stage opens.",
        alt: "A calm sea under a pale sky, the sun's reflection glittering on the water",
        keywords: &["sea", "beach", "dawn", "stage:Beach", "day:Saturday"],
        taken: "2026:07:11 05:48:30",
        rating: 4,
        photographer: LEA,
        sets: &["Saturday", "Festival"],
    },
    Photo {
        file: "DSC_0107.jpg",
        size: (1067, 1600),
        scene: Scene::Crowd,
        palette: MAGENTA,
        title: "Hands up for Nightjar",
        caption: "The front rows as Nightjar take the main stage.",
        alt: "Raised arms and heads in silhouette under pink stage light",
        keywords: &["crowd", "artist:Nightjar", "stage:Main", "day:Saturday"],
        taken: "2026:07:11 21:10:08",
        rating: 3,
        photographer: TOM,
        sets: &["Main stage"],
    },
    Photo {
        file: "DSC_0108.jpg",
        size: (1600, 1067),
        scene: Scene::StageLights,
        palette: LASER,
        title: "Nightjar on the main stage",
        caption: "Nightjar's green lasers cut through the haze.",
        alt: "Green beams of light fanning out over a dark stage",
        keywords: &[
            "stage",
            "lights",
            "artist:Nightjar",
            "stage:Main",
            "day:Saturday",
        ],
        taken: "2026:07:11 21:36:44",
        rating: 4,
        photographer: INES,
        sets: &["Main stage"],
    },
    Photo {
        file: "DSC_0109.jpg",
        size: (1067, 1600),
        scene: Scene::Portrait,
        palette: TEAL,
        title: "Okafor",
        caption: "Okafor backstage after the afternoon set.",
        alt: "The silhouette of a musician's head and shoulders against a teal backdrop",
        keywords: &["portrait", "backstage", "artist:Okafor"],
        taken: "2026:07:11 17:22:19",
        rating: 5,
        photographer: LEA,
        sets: &["Portraits", "Press kit"],
    },
    Photo {
        file: "DSC_0110.jpg",
        size: (1200, 1200),
        scene: Scene::Sunset,
        palette: GOLDEN,
        title: "Golden hour on the hill",
        caption: "The hill above the main stage in the last sun of Saturday.",
        alt: "A golden evening sky over a dark hillside",
        keywords: &["sunset", "hill", "day:Saturday"],
        taken: "2026:07:11 20:48:02",
        rating: 3,
        photographer: INES,
        sets: &["Saturday"],
    },
    Photo {
        file: "DSC_0111.jpg",
        size: (2000, 1125),
        scene: Scene::Crowd,
        palette: CYAN,
        title: "The main stage from the back of the field",
        caption: "Thousands wait for the headliner.",
        alt: "A wide crowd in silhouette before a blue-lit stage",
        keywords: &["crowd", "stage:Main", "day:Saturday"],
        taken: "2026:07:11 22:30:51",
        rating: 2,
        photographer: TOM,
        sets: &["Main stage"],
    },
    Photo {
        file: EMBARGO_FILE,
        size: (1600, 1067),
        scene: Scene::StageLights,
        palette: AMBER,
        title: "Headliner encore",
        caption: "The Lumens return for the encore: the festival's last song.",
        alt: "Amber and white beams over a dark stage, the lamps blazing",
        keywords: &[
            "stage",
            "lights",
            "encore",
            "artist:The Lumens",
            "stage:Main",
        ],
        taken: "2026:07:11 23:52:26",
        rating: 5,
        photographer: INES,
        sets: &[EMBARGO_SET],
    },
    Photo {
        file: "poster-artwork.png",
        size: (1200, 800),
        scene: Scene::Sunset,
        palette: MAGENTA,
        title: "Poster artwork",
        caption: "The festival's poster artwork, for print and web.",
        alt: "A violet and pink sky over a dark horizon",
        keywords: &["poster", "artwork"],
        taken: "2026:05:02 10:00:00",
        rating: 0,
        photographer: LEA,
        sets: &["Press kit"],
    },
    Photo {
        file: "DSC_0113.jpg",
        size: (1600, 1067),
        scene: Scene::Crowd,
        palette: LASER,
        title: "Crew at soundcheck",
        caption: "The stage crew during Saturday's soundcheck.",
        alt: "People in silhouette in front of a green-lit stage",
        keywords: &["crew", "soundcheck", "stage:Main"],
        taken: "2026:07:11 14:05:12",
        rating: 1,
        photographer: TOM,
        sets: &["Internal"],
    },
    Photo {
        file: "DSC_0114.jpg",
        size: (1067, 1600),
        scene: Scene::Portrait,
        palette: AMBER,
        title: "Stage manager at rehearsal",
        caption: "The stage manager, on the radio during rehearsal.",
        alt: "The silhouette of a person's head and shoulders against an amber light",
        keywords: &["crew", "portrait", "rehearsal"],
        taken: "2026:07:11 13:31:40",
        rating: 2,
        photographer: LEA,
        sets: &["Internal"],
    },
];

/// The websites: (slug, type, root set, name, title, intro, accent).
const WEBSITES: [(&str, WebsiteType, &str, &str, &str, &str, &str); 2] = [
    (
        "festival",
        WebsiteType::Public,
        "Festival",
        "Brightwater Festival 2026 — public gallery",
        "Brightwater Festival 2026",
        "Two days of music by the sea: the opening night, dawn at the beach stage and Saturday on the main stage.",
        "#c2410c",
    ),
    (
        "festival-press",
        WebsiteType::Press,
        "Press kit",
        "Brightwater Festival 2026 — press",
        "Brightwater Festival 2026 — press",
        "Pictures for the press in large size. Free to use in coverage of the festival; credit the photographer.",
        "#0f766e",
    ),
];

// --- seeding -----------------------------------------------------------------------

fn fail(e: CoreError) -> Failure {
    Failure(e.message)
}

/// A write of its own, as one API request is.
fn write_context(account: &str) -> WriteContext {
    WriteContext {
        account_id: account.to_owned(),
        idempotency_key: ids::new_public_uuid(),
        request_hash: String::new(),
    }
}

/// Seeds (or reuses) the demo library, mints a fresh all-scope token, gives
/// the admin a fresh random password, makes the websites that are missing
/// and puts one image under embargo until a few minutes from now.
pub async fn seed(core: &Core) -> Result<Seeded, Failure> {
    let (account, fresh) = match accounts::find(core, ACCOUNT).await {
        Ok(account) => (account, false),
        Err(_) => (
            accounts::create(core, "Demo Festival", ACCOUNT)
                .await
                .map_err(fail)?,
            true,
        ),
    };
    accounts::set_api_access(core, &account.uuid, true)
        .await
        .map_err(fail)?;
    let new = NewServiceToken {
        name: "demo (all scopes)".to_owned(),
        scopes: Scope::ALL.to_vec(),
        ..NewServiceToken::default()
    };
    let (_, secret) = tokens::create(core, &account.uuid, new)
        .await
        .map_err(fail)?;
    let token = secret.as_str().to_owned();
    // The demo writes as its token would through the API.
    let principal = core.auth.authenticate(&token).await.map_err(fail)?;
    if fresh {
        let admin = users::create(core, ADMIN, "Demo Admin", None)
            .await
            .map_err(fail)?;
        users::add_to_account(core, &admin.uuid, &account.uuid, users::Role::Admin)
            .await
            .map_err(fail)?;
        seed_library(core, &principal, &account.uuid, &admin.uuid).await?;
    }
    // Three recovery-code-shaped groups: ~150 random bits, easy to type.
    let password = lightbox_core::passwords::random_password().map_err(fail)?;
    users::set_password(core, ADMIN, &password)
        .await
        .map_err(fail)?;
    let tree = sets::tree(core, &account.uuid).await.map_err(fail)?;
    let websites = ensure_websites(core, &principal, &account.uuid, &tree).await?;
    let embargo = embargo(core, &principal, &account.uuid, &tree).await?;
    Ok(Seeded {
        token,
        password,
        websites,
        embargo,
    })
}

/// The sets, then the photographs (made on the blocking pool, both cores
/// at once), each uploaded into its first set and described, then the
/// other sets they belong to.
async fn seed_library(
    core: &Core,
    principal: &Principal,
    account: &str,
    admin: &str,
) -> Result<(), Failure> {
    let mut set_ids: Vec<(&str, String)> = Vec::new();
    for (name, parent, set_type, colour, description) in SETS {
        let parent_public_uuid = parent.and_then(|p| id_of(&set_ids, p));
        let input = NewSet {
            name: name.to_owned(),
            description: Some(description.to_owned()),
            colour: Some(colour),
            set_type: Some(set_type),
            parent_public_uuid,
        };
        let op = sets::create(core, &write_context(account), input)
            .await
            .map_err(fail)?;
        let id = op
            .set_public_uuid
            .ok_or_else(|| Failure(format!("demo set {name}: no id")))?;
        set_ids.push((name, id));
    }
    let files: Vec<_> = PHOTOS
        .iter()
        .zip(1u32..)
        .map(|(photo, seed)| tokio::task::spawn_blocking(move || photo.bytes(seed)))
        .collect();
    let mut members: Vec<(&str, Vec<String>)> = Vec::new();
    for (photo, file) in PHOTOS.iter().zip(files) {
        let bytes = file
            .await
            .map_err(|e| Failure(format!("demo image {}: {e}", photo.file)))?;
        let image = upload(core, account, admin, photo, bytes, &set_ids).await?;
        describe(core, principal, account, photo, &image).await?;
        for set in photo.sets.iter().skip(1) {
            match members.iter_mut().find(|(name, _)| name == set) {
                Some((_, images)) => images.push(image.clone()),
                None => members.push((set, vec![image.clone()])),
            }
        }
    }
    for (set, images) in members {
        let id = id_of(&set_ids, set).ok_or_else(|| Failure(format!("demo set {set}: none")))?;
        let change = Arrangement::add(MembersBody {
            image_public_uuids: images,
        })
        .map_err(fail)?;
        set_arrangement::arrange(core, principal, &write_context(account), &id, change)
            .await
            .map_err(fail)?;
    }
    Ok(())
}

fn id_of(set_ids: &[(&str, String)], name: &str) -> Option<String> {
    set_ids
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, id)| id.clone())
}

/// Uploads one photograph as the admin, into its first set; its id.
async fn upload(
    core: &Core,
    account: &str,
    admin: &str,
    photo: &Photo,
    bytes: Vec<u8>,
    set_ids: &[(&str, String)],
) -> Result<String, Failure> {
    let input = NewUpload {
        filename: photo.file.to_owned(),
        title: Some(photo.title.to_owned()),
        description: Some(photo.caption.to_owned()),
        keywords: Some(photo.keywords.iter().map(|k| (*k).to_owned()).collect()),
        creation_date: Some(photo.taken.to_owned()),
        set_public_uuid: photo.sets.first().and_then(|s| id_of(set_ids, s)),
        read_metadata: None,
    };
    let answer = uploads::import(
        core,
        account,
        Uploader::User(admin.to_owned()),
        input,
        bytes.into(),
    )
    .await
    .map_err(|e| Failure(format!("demo image {}: {}", photo.file, e.message)))?;
    Ok(answer.image_public_uuid)
}

/// Rating, alt text, credit line and IPTC rights of one image, in one write.
async fn describe(
    core: &Core,
    principal: &Principal,
    account: &str,
    photo: &Photo,
    image: &str,
) -> Result<(), Failure> {
    let text = |s: &str| Some(Some(s.to_owned()));
    let rights = MetadataPatch {
        headline: text(photo.title),
        creator: text(photo.photographer),
        credit_line: text(&format!(
            "Photo: {} / Brightwater Festival",
            photo.photographer
        )),
        copyright_notice: text(&copyright(photo.photographer)),
        city: text("Brightwater"),
        country: text("United Kingdom"),
        country_code: text("GB"),
        ..MetadataPatch::default()
    };
    let batch = vec![
        Edit::rating(
            image,
            RatingBody {
                rating: photo.rating,
            },
        ),
        Edit::alt_text(
            image,
            AltTextBody {
                alt_text: photo.alt.to_owned(),
            },
        ),
        Edit::add_credit(
            image,
            CreditBody {
                role: "Photo".to_owned(),
                name: photo.photographer.to_owned(),
            },
        ),
        Edit::metadata(image, &rights),
    ]
    .into_iter()
    .collect::<Result<Vec<_>, _>>()
    .map_err(fail)?;
    edits::run_batch(core, principal, &write_context(account), batch)
        .await
        .map_err(|e| Failure(format!("demo image {}: {}", photo.file, e.message)))?;
    Ok(())
}

/// The first set of this name in the tree, depth first.
fn find_set<'a>(tree: &'a [SetNode], name: &str) -> Option<&'a Set> {
    tree.iter().find_map(|node| {
        if node.set.name == name {
            Some(&node.set)
        } else {
            find_set(&node.children, name)
        }
    })
}

/// Makes the demo's websites that do not exist yet (a library from before
/// the websites, or one whose root set is gone, goes without); returns the
/// demo's websites.
async fn ensure_websites(
    core: &Core,
    principal: &Principal,
    account: &str,
    tree: &[SetNode],
) -> Result<Vec<Website>, Failure> {
    let existing = demo_websites(core, account).await?;
    for (slug, website_type, root, name, title, intro, accent) in WEBSITES {
        if existing.iter().any(|w| w.slug == slug) {
            continue;
        }
        let Some(root) = find_set(tree, root) else {
            tracing::warn!(slug, root, "the demo library has no such set: no website");
            continue;
        };
        let input = NewWebsite {
            name: name.to_owned(),
            website_type: Some(website_type),
            slug: slug.to_owned(),
            hostname: None,
            root_set_public_uuid: root.public_uuid.clone(),
            title: Some(title.to_owned()),
            intro: Some(intro.to_owned()),
            accent: Some(accent.to_owned()),
            logo_image_public_uuid: None,
            downloads: Some(match website_type {
                WebsiteType::Public => Downloads::None,
                WebsiteType::Press => Downloads::Large,
            }),
        };
        // A slug another account of this server holds is no reason to stop.
        if let Err(e) = websites::create(core, &write_context(account), principal, input).await {
            tracing::warn!(slug, error = %e.message, "could not make the demo website");
        }
    }
    demo_websites(core, account).await
}

/// The account's websites with the demo's slugs, in the demo's order.
async fn demo_websites(core: &Core, account: &str) -> Result<Vec<Website>, Failure> {
    let (all, _) = websites::list(core, account, 200, 0).await.map_err(fail)?;
    Ok(WEBSITES
        .iter()
        .filter_map(|(slug, ..)| all.iter().find(|w| w.slug == *slug).cloned())
        .collect())
}

/// Hides the embargoed image in its set until a few minutes from now (as
/// `PATCH /v1/sets/{id}/visibility` would); its live time and title.
async fn embargo(
    core: &Core,
    principal: &Principal,
    account: &str,
    tree: &[SetNode],
) -> Result<Option<(String, String)>, Failure> {
    let Some(set) = find_set(tree, EMBARGO_SET) else {
        return Ok(None);
    };
    let (images, _) = set_arrangement::images(core, account, &set.public_uuid, false, 200, 0)
        .await
        .map_err(fail)?;
    let Some(image) = images.into_iter().find(|i| i.filename == EMBARGO_FILE) else {
        return Ok(None);
    };
    let live_at = format_rfc3339(core.now() + EMBARGO_SECS * 1_000_000);
    let change = Arrangement::visibility(VisibilityBody {
        image_public_uuids: Some(vec![image.public_uuid.clone()]),
        hidden: true,
        activation_time: Some(live_at.clone()),
    })
    .map_err(fail)?;
    set_arrangement::arrange(
        core,
        principal,
        &write_context(account),
        &set.public_uuid,
        change,
    )
    .await
    .map_err(fail)?;
    Ok(Some((live_at, image.title)))
}
