"""Common first names, for `flows.redaction`: a single word after a role, a thank-you or a
naming verb ("Kellner Tobias", "Danke an Kevin", "sie hieß Jessica") is taken for a name only
if it is one of these (a capitalised word alone is none: German capitalises every noun).

In small letters, as the redaction looks them up. Names that are words as well are left out,
in either language or as a brand: Mark (the currency, "mark my words"), Will, May, Rose, Grace,
Art, Hope, Joy, June, April, August, Said, Guy, Dean, Ray, Long, Hai, Mai, Wolf, Otto (the
mail-order firm), Mercedes, Kia, Roman (a novel), Adel (nobility), Alla, Dung, Hung. Those in
`AMBIGUOUS_IN_SMALL_LETTERS` are names only when capitalised: "frank", "max 5 Minuten".
Vietnamese family names (Nguyen, Tran) are not given names and are not here.
"""

from __future__ import annotations

FIRST_NAMES = frozenset(
    # German, Austrian, Swiss: male
    "peter michael thomas andreas wolfgang klaus jürgen juergen günter günther guenter stefan "
    "stephan christian uwe werner horst frank dieter manfred gerhard hans bernd torsten "
    "thorsten helmut matthias mathias martin jörg joerg ralf ralph rolf heinz sven dirk "
    "holger karl carl markus marcus alexander daniel tobias florian sebastian tim jan jens "
    "lars kai nils niklas niclas lukas lucas jonas leon finn fynn felix maximilian max moritz "
    "paul ben elias noah luis louis luca luka jakob jacob julian fabian dennis kevin marcel "
    "pascal patrick marco mario dominik david philipp phillip simon johannes benedikt "
    "valentin vincent anton emil oskar oscar theo henry henri hendrik henrik heinrich hermann "
    "rudolf rudi walter willi willy wilhelm friedrich fritz franz josef joseph sepp georg "
    "jörn kurt erich ernst herbert gerd gert detlef detlev rainer reiner norbert hartmut "
    "reinhard siegfried ulrich ulli uli volker wilfried winfried achim joachim jochen armin "
    "axel bernhard burkhard christoph christof egon erwin ewald gregor gustav hubert ingo "
    "lothar ludwig olaf oliver reinhold robert roland rüdiger sascha steffen timo tino udo "
    "ulf alfred albert arno benno björn bjoern carsten karsten clemens konrad eckhard edgar "
    "gunnar gunter harald heiko heino helge jannik yannick jannis janis jonathan justus "
    "kilian konstantin leonard lennard lennart linus malte marius mats mika mike mirko nico "
    "niko ole robin sören soeren tilo thilo tom torben volkmar hannes hanno elmar friedhelm "
    "gottfried helmuth knut lutz marc meik maik mathis nikolai piet quirin raphael rafael "
    "severin silvio sönke tjark veit xaver jörgen kalle lasse matti mattis jasper henning "
    "hauke gerrit jost eike enno fiete hinnerk klaas "
    # (and the North German ones below, found missing by a redaction walk-through)
    # German, Austrian, Swiss: female
    "ursula monika petra elisabeth sabine renate helga karin brigitte ingrid erika andrea "
    "gisela claudia susanne gabriele gabi christa christine christiane marion barbara "
    "angelika birgit heike anja martina doris nicole stefanie stephanie silke katrin kathrin "
    "katharina tanja simone sandra jutta bettina daniela julia anna lena lea leonie hannah "
    "hanna emma mia sophie sofie marie lina laura sarah sara lisa lara johanna clara klara "
    "charlotte emilia amelie ella luisa louisa mila nele jana janina jasmin jessica jennifer "
    "vanessa melanie nadine sabrina jacqueline chantal mandy peggy cindy yvonne manuela "
    "kerstin anke antje astrid beate britta carola cornelia dagmar diana dorothea edith elke "
    "elfriede frieda erna eva franziska gerda gertrud gudrun hannelore heidi helene hildegard "
    "ilse inge irene isabel judith karla karolina katja kira lotte lydia magdalena margarete "
    "margit maria marianne marlene martha melina michaela miriam nadja natalie nina paula pia "
    "regina rita ruth sonja svenja sylvia silvia theresa therese tina ulrike ute vera "
    "waltraud wiebke zoe ronja greta ida frida mathilda matilda helena marlies irmgard hilde "
    "liesel rosi vroni resi annika anika carina corinna denise fabienne finja inga jule "
    "josephine larissa lilli lilly maren meike merle nora patricia pauline rebecca ricarda "
    "saskia selina svea tamara verena viktoria alina annette angela anne bärbel conny ellen "
    "gaby hanne ines ingeborg lieselotte sina steffi susi uschi wilma elena emely emilie "
    "jolina josefine leni lia liv luna maja malia mara marla mira romy sophia thea tilda elli "
    "annemarie rosemarie hedwig luise leonora frauke gesa imke swantje inken femke birte "
    "birthe hilke tomke "
    # Turkish
    "mehmet mustafa ahmet hüseyin huseyin hasan ibrahim ismail osman yusuf murat ömer omer "
    "ramazan halil süleyman suleyman abdullah mahmut recep kemal emre burak serkan volkan cem "
    "deniz kaan onur tolga tuncay uğur ugur yasin eren furkan enes emir baran berk arda efe "
    "kerem mert oğuz oguz selim sinan tarkan levent erkan hakan orhan cengiz metin engin "
    "kadir gökhan gokhan ercan fatih ayşe ayse fatma emine hatice zeynep elif meryem şerife "
    "zehra hülya özlem ozlem esra merve büşra busra tuğba tugba derya sibel aylin ebru gülşen "
    "serpil yasemin canan selin dilara ece irem melek songül nurcan filiz sevgi leyla defne "
    "ela asya azra nisa melike betül betul kübra kubra sena sude duygu gizem pınar pinar "
    "tülay sevim hande seda cansu gamze şeyma "
    # Polish
    "piotr krzysztof andrzej tomasz paweł pawel michał michal marcin grzegorz jakub łukasz "
    "lukasz mateusz wojciech mariusz dariusz zbigniew jerzy janusz maciej kamil rafał rafal "
    "sławomir stanisław tadeusz krystian bartosz bartek szymon dawid adam artur damian "
    "przemysław wiesław kazimierz henryk józef ryszard agnieszka małgorzata malgorzata "
    "katarzyna kasia joanna ewa beata dorota aleksandra justyna paulina marta natalia zofia "
    "wiktoria weronika agata jadwiga halina grażyna grazyna bożena bozena danuta krystyna "
    "elżbieta elzbieta urszula iwona renata edyta izabela sylwia aneta dominika patrycja "
    "gosia basia marek "
    # Russian, Ukrainian
    "aleksandr sergej sergei sergey dmitri dmitrij dmitry andrej andrei alexej aleksej alexei "
    "nikolaj vladimir wladimir iwan ivan mikhail michail jewgeni evgeny juri yuri oleg igor "
    "pavel viktor wiktor maxim boris anatoli wassili vasily ruslan artjom artem vitali witali "
    "stanislav gennadi grigori ilja ilya kirill leonid timur vadim waldemar eduard olga "
    "natalja natascha tatjana tatiana swetlana svetlana irina jelena anastasia nastja "
    "ljudmila ludmila galina marina oksana julija ekaterina jekaterina ksenia xenia nadeschda "
    "valentina walentina polina daria darja sofia sofija veronika ljuba raissa inna lilia "
    "mascha dascha wanja kolja mischa aljona alena olesja taras bogdan mykola "
    # (these, found missing by a redaction walk-through, as were those under "Balkan",
    # "Romanian", "Indian" and "West African" below)
    "olena darya mykhailo andriy oleksandr oleksii yulia iryna kateryna nataliia dmytro "
    "serhii vitalii yaroslav "
    # Balkan
    "dragana jovana dragan goran zoran dejan nenad ivana snezana snežana milica mirjana "
    "ljiljana bojan nikola marko tomislav vesna "
    # Romanian
    "ioana andreea mihai ionut ionuț alexandru gheorghe raluca ovidiu catalin cătălin sorin "
    # Italian, Spanish, Portuguese
    "giuseppe giovanni antonio luigi francesco angelo vincenzo pietro salvatore carlo franco "
    "domenico bruno paolo michele giorgio aldo sergio luciano roberto stefano massimo "
    "alessandro davide matteo lorenzo federico riccardo fabio enrico alberto claudio gianni "
    "giacomo emanuele nicola dario filippo tommaso leonardo mattia giulio raffaele rocco enzo "
    "gino dino nino toni giuseppina giovanna teresa lucia carmela francesca giulia chiara "
    "alessia federica elisa paola roberta antonella beatrice alice bianca giorgia arianna "
    "ilaria serena stefania cinzia loredana patrizia rosalia concetta donatella raffaella "
    "carlos juan josé jose manuel miguel pedro pablo javier jorge alejandro diego fernando "
    "raúl raul ángel mateo santiago joão joao rodrigo carmen lucía ana pilar dolores rocío "
    "rocio gabriela mariana fernanda "
    # Arabic, Persian
    "mohammed muhammad mohamed mohammad ahmad ahmed ali omar umar hussein husein khaled "
    "khalid mahmoud youssef abdul karim samir tarek tariq walid nabil rami sami fadi hamza "
    "bilal amir amin jamal kamal majid nasser rashid salim salah ziad ayman anas ayoub mehdi "
    "hadi jamil mounir reza hamid farid navid fatima aisha aischa mariam maryam zainab layla "
    "leila amina yasmin yasmina samira rania hana hanan dalia salma noura huda amal iman reem "
    "samar lamia malak malika khadija zahra soraya nesrin dunja shirin parisa "
    # Greek
    "georgios giorgos dimitrios dimitris konstantinos kostas ioannis giannis nikolaos nikos "
    "panagiotis christos vasilios vasilis athanasios thanasis michalis evangelos vangelis "
    "spyros stavros theodoros stelios apostolos anastasios tasos alexandros petros manolis "
    "yannis eleni aikaterini katerina vasiliki angeliki georgia dimitra konstantina paraskevi "
    "despina eirini irini christina ioanna panagiota stella chrysa evangelia athina efi "
    "kalliopi fotini "
    # Vietnamese (given names, not the family names Nguyen or Tran, which are surnames)
    "linh anh minh trang hoa thu duc tuan huong hanh thao phuong quang khanh thanh hieu hien "
    "thuy ngoc vy "
    # Indian
    "priya anjali aarav rahul arjun deepak sunita lakshmi pooja neha vikram sanjay kavya "
    "ravi amit raj "
    # West African
    "kofi kwame kwabena akosua abena chidi chinedu ngozi emeka tunde femi "
    # English
    "james john william richard charles christopher matthew anthony donald steven andrew "
    "joshua kenneth brian george edward ronald timothy jason jeffrey ryan gary nicholas eric "
    "stephen larry justin scott brandon benjamin samuel gregory raymond jerry tyler aaron "
    "nathan douglas zachary kyle harold keith roger gerald terry sean austin arthur lawrence "
    "jesse dylan bryan joe jordan billy bruce willie gabriel logan alan wayne roy randy "
    "eugene russell elijah bobby philip johnny dave steve tony chris matt jake josh nick sam "
    "dan danny jim jimmy joey andy alex jeff greg phil pete ted ron ken rick ricky charlie "
    "harry ollie olly alfie archie freddie toby liam mason luke connor callum kieran declan "
    "owen rhys gareth darren craig stuart neil graham ian colin nigel trevor barry clive "
    "derek jamie shane gavin ross fraser angus duncan hamish ewan mary linda elizabeth susan "
    "karen nancy betty margaret ashley kimberly emily donna michelle carol amanda dorothy "
    "melissa deborah sharon cynthia kathleen amy shirley brenda pamela samantha katherine "
    "debra rachel carolyn janet catherine diane julie olivia joyce virginia victoria kelly "
    "lauren joan evelyn megan cheryl gloria ann madison frances kathryn janice jean abigail "
    "judy beverly marilyn danielle brittany amelia isla ava chloe lucy jen jenny kate katie "
    "becky beth liz jo jane sally tracy tracey stacey kerry claire clare fiona gemma kirsty "
    "leanne hayley jodie chantelle shannon courtney kayleigh bethany abbie ellie millie molly "
    "maisie freya isabelle isabella eleanor harriet imogen jessie tessa wendy maureen sheila "
    "gillian lynn jenna helen "
    # French, also as parts of double names ("Jean-Pierre", found by review)
    "pierre luc claude michel jacques françois francois baptiste philippe yves rené rene "
    "andré andre "
    # found by a precision check of care homes', ski schools' and offices' comments
    "siobhan niamh aoife janine fanny vreni vroni wastl marija tobi lotta yusuf "
    "kwame "
    # found by a precision check of banks', vets', gyms' and parishes' comments
    "maike meike marvin anita okan dani "
    # found by a precision check of comments from care services, couriers, sports clubs
    "wojtek käthe kaethe olli jayden "
    # found by a precision check of property managers', kindergartens', airlines', movers'
    # and parcel services' comments
    "roswitha bastian tyrone marisol gül bernadette nadia bridget brianna ömer".split()
)

# Words of German or English in small letters that are also first names: a name only when
# capitalised after a role ("der fahrer max 5 Minuten zu spät" names no one).
AMBIGUOUS_IN_SMALL_LETTERS = frozenset(
    "frank ernst max nick malte lasse reiner randy terry mason carol roger jo dino franco "
    "maxim marina ross jean luke kai".split()
)

# Common surnames (German first, then those of families who came from Turkey, Poland,
# Russia, Italy, Portugal, Spain, Brazil, Greece, the Balkans, Vietnam and elsewhere), in
# small letters: a word after "frau" that is none ("frau fand das essen kalt": "frau" is a
# wife), or after "Familie" or a booking ("Tisch lief auf Terrasse") is no name (found by a
# review of the rules that took any word there). Those that are German words too are left
# out (Koch, Wolf, Fuchs, Bauer, Vogel, Winter, Sommer, Braun, Schwarz, Klein, Lang, Lange,
# Sauer, Krause, Hahn, Kaiser, König, Graf, Jung, Stein, Berg, Busch, Horn, Engel, Ernst,
# Kraft, Sturm, Frank; English ones such as Brown, White, Young, Cook): after a capitalised
# title they are names all the same ("Frau Koch").
COMMON_SURNAMES = frozenset(
    "müller mueller schmidt schmitt schneider fischer weber meyer meier mayer maier wagner "
    "becker schulz schulze hoffmann hofmann schäfer schaefer richter neumann schwarzer "
    "zimmermann schröder schroeder krüger krueger hartmann werner schmitz lehmann "
    "schmid köhler koehler herrmann walter mayer peters möller moeller lorenz böhm boehm "
    "schubert seidel schumacher friedrich keller günther guenther vogt jäger jaeger "
    "haas schuster heinrich brandt schreiber berger dietrich ziegler "
    "pohl bergmann thomas voigt arnold wolff pfeiffer beck lindner "
    "ludwig kuhn franke albrecht winkler simon hansen böttcher boettcher schüler schueler "
    "jansen janssen petersen paulsen nielsen thomsen jacobs hermann kunz hartwig wendt "
    "martens marx kramer kraemer schütz schuetz bauermann roth frey "
    "ebert kessler kirchner beyer baumann heinz brinkmann nowak nowack "
    "yılmaz yilmaz kaya demir şahin sahin çelik celik yıldız yildiz yıldırım yildirim "
    "öztürk ozturk aydın aydin özdemir ozdemir arslan doğan dogan kılıç kilic aslan çetin "
    "cetin kara koç koc kurt özkan ozkan şimşek simsek polat korkmaz erdoğan erdogan "
    "kowalski kowalska wiśniewski wisniewski wójcik wojcik kowalczyk kamiński kaminski "
    "lewandowski lewandowska zieliński zielinski szymański szymanski woźniak wozniak "
    "dąbrowski dabrowski kozłowski kozlowski jankowski mazur krawczyk piotrowski nowakowski "
    "ivanov ivanova petrov petrova smirnov smirnova popov popova volkov volkova kuznetsov "
    "kuznetsova sokolov morozov novikov fedorov schewtschenko "
    "rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo "
    "conti costa giordano rizzo lombardi moretti "
    "silva santos souza sousa oliveira pereira ferreira almeida cruz fernandes lopes "
    "papadopoulos papadopoulou georgiou nikolaou dimitriou konstantinou ioannou "
    "jovanović jovanovic petrović petrovic nikolić nikolic marković markovic horvat "
    "kovačević kovacevic hodžić hodzic "
    "nguyen tran pham hoang huynh phan vo dang bui ngo duong "
    "smith johnson williams jones garcia miller davis rodriguez martinez wilson "
    "anderson taylor moore jackson martin thompson harris clark lewis robinson "
    "walker allen wright scott adams nelson campbell mitchell "
    "roberts carter phillips evans turner parker collins edwards stewart morris murphy "
    "rogers morgan cooper peterson bailey kelly howard cox richardson "
    "watson brooks james bennett hughes sanders myers ross foster "
    # common ones that are no words (found by a staff walk-through of session 51:
    # "Kellnerin Krause", "Rezeptionist Scholz", "The night porter Davies")
    "huber krause scholz schulte kühn kuehn davies clarke harrison griffiths shaw "
    "de vries van dijk jansen bakker visser smit meijer mulder bos dekker "
    "ahmed mohamed hassan ali hussein ibrahim mahmoud khalil haddad saleh nasser "
    "patel singh khan kumar sharma gupta shah wang zhang chen liu yang huang zhao wu zhou "
    "kim choi okafor okoye mensah diallo traoré traore".split()
)
